// Bundles the CLI into one file, dist/upl.cjs, with the SDK, commander and cli-progress inside:
// installing it pulls no runtime dependencies. Type checking is tsc's job (tsconfig.json), not this.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const started = Date.now();
const result = await build({
  entryPoints: [path.join(here, 'src/main.ts')],
  outfile: path.join(here, 'dist/upl.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // The repository's tsconfig maps @app/sdk to libs/sdk/src.
  tsconfig: path.join(here, 'tsconfig.json'),
  banner: { js: '#!/usr/bin/env node' },
  define: { __UPL_VERSION__: JSON.stringify(version) },
  minify: true,
  legalComments: 'linked',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`built packages/cli/dist/upl.cjs (${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
