// Bundles the web uploader (apps/upload-api/web) into dist/web/, which upload-api serves at /app/:
// app.js (with the SDK inside), index.html and styles.css. Type checking is tsc's job, not this.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
// BUILD_OUT: the same output folder the rest of the build uses (scripts/build.mjs).
const out = path.join(path.resolve(root, process.env.BUILD_OUT ?? 'dist'), 'web');
const started = Date.now();
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [path.join(here, 'app.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome120', 'firefox121', 'safari17'],
  // The repository's tsconfig maps @app/sdk to libs/sdk/src.
  tsconfig: path.join(root, 'tsconfig.json'),
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
await Promise.all(['index.html', 'styles.css'].map((name) => copyFile(path.join(here, name), path.join(out, name))));
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`built dist/web/ (app.js ${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
