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
      // `@app/*` aliases become relative paths, in the build and under jest alike.
      ...(rewritePaths ? { baseUrl: root, paths: tsconfig.compilerOptions.paths } : {}),
    },
    // import() becomes require(): Prisma's client loads its WASM query compiler that way, and jest's
    // module runtime cannot run a native dynamic import without --experimental-vm-modules.
    module: { type: 'commonjs', strictMode: true, ignoreDynamic: false },
    sourceMaps: true,
  };
};
