// Builds the SDK as the package @upload-platform/sdk (libs/sdk/package.json) into libs/sdk/dist:
//   index.mjs / index.cjs + index.d.mts / index.d.cts   the browser-safe main entry
//   node.mjs  / node.cjs  + node.d.mts  / node.d.cts    the Node entry (all of the above + fromFile)
// Both entries share one chunk of code (and the Node entry's declarations re-export the main
// entry's), so each class exists once per module system: an UploadApiError thrown through one entry
// is `instanceof` the other's. tsup bundles the declarations (rollup-plugin-dts). The SDK imports
// nothing from node_modules or other libs, so the package has no runtime dependencies.
// Then it proves the main entry browser-safe: esbuild bundles dist/index.mjs for the browser and
// the build fails if anything in it imports a Node built-in.
//
// Usage: node libs/sdk/build.mjs [--out-dir DIR]   (the e2e test builds into a temporary package)
import { build as esbuild } from 'esbuild';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
const outDir = path.resolve(values['out-dir'] ?? path.join(here, 'dist'));
const started = Date.now();
// tsup reads the package (its type, its dependencies) and finds TypeScript from the working directory.
process.chdir(here);

await build({
  config: false,
  entry: { index: path.join(here, 'src/index.ts'), node: path.join(here, 'src/node.ts') },
  outDir,
  format: ['esm', 'cjs'],
  outExtension: ({ format }) => (format === 'cjs' ? { js: '.cjs', dts: '.d.cts' } : { js: '.mjs', dts: '.d.mts' }),
  // ES2022 syntax: Node >= 20.3 (AbortSignal.any) and browsers of the last few years run it as is.
  // (Naming browser engines here would make esbuild strip the node: prefix from node.ts's import.)
  target: ['es2022', 'node20'],
  // Node built-ins (node.ts's node:fs) stay imports; the browser check below keeps them out of the main entry.
  platform: 'node',
  // One shared chunk for both entries, in CommonJS too (tsup's splitting for cjs).
  splitting: true,
  removeNodeProtocol: false,
  sourcemap: true,
  clean: true,
  dts: true,
  tsconfig: path.join(here, 'tsconfig.build.json'),
  silent: true,
});

// tsup names CommonJS declarations by the package type (.d.ts under "type": "commonjs") and does not
// pass outExtension to its declaration worker: rename them .d.cts, with their imports to match, so
// `require` resolves to CommonJS types under moduleResolution node16 (not ESM ones).
for (const name of await readdir(outDir)) {
  if (!name.endsWith('.d.ts')) continue;
  const text = await readFile(path.join(outDir, name), 'utf8');
  await writeFile(path.join(outDir, name.replace(/\.d\.ts$/, '.d.cts')), text.replace(/(from '\.\/[\w-]+)\.js'/g, "$1.cjs'"));
  await rm(path.join(outDir, name));
}

// The browser check: the main entry and everything it imports, bundled for a browser.
const nodeImports = [];
await esbuild({
  entryPoints: [path.join(outDir, 'index.mjs')],
  bundle: true,
  write: false,
  platform: 'browser',
  format: 'esm',
  logLevel: 'silent',
  plugins: [
    {
      name: 'refuse-node-builtins',
      setup(b) {
        const builtins = new Set(builtinModules);
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.path.startsWith('node:') || builtins.has(args.path.split('/')[0])) {
            nodeImports.push(`${args.path} (imported by ${path.relative(outDir, args.importer)})`);
            return { path: args.path, external: true };
          }
          return undefined;
        });
      },
    },
  ],
});
if (nodeImports.length) {
  console.error(`the browser entry imports Node built-ins: ${nodeImports.join(', ')}`);
  process.exit(1);
}
console.log(`built @upload-platform/sdk into ${outDir} in ${Date.now() - started} ms (browser entry free of Node built-ins)`);
