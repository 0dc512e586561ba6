// One swc configuration for the build (scripts/build.mjs) and for jest (@swc/jest), so the code
// that is tested is compiled exactly like the code that runs.
const path = require('node:path');
const tsconfig = require('../tsconfig.json');

const root = path.resolve(__dirname, '..');

module.exports = function swcOptions({ rewritePaths }) {
  return {
    jsc: {
      parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2023',
      keepClassNames: true,
      // The build rewrites `@app/*` aliases to relative paths; jest maps them with moduleNameMapper.
      ...(rewritePaths ? { baseUrl: root, paths: tsconfig.compilerOptions.paths } : {}),
    },
    module: { type: 'commonjs', strictMode: true, ignoreDynamic: true },
    sourceMaps: true,
  };
};
