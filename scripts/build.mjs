// Compiles apps/ and libs/ to dist/ with swc, keeping the source tree's shape so that the
// rewritten `@app/*` imports resolve. Type checking is `npm run typecheck` (tsc), not this.
import { transformFile } from '@swc/core';
import { createRequire } from 'node:module';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const swcOptions = require('./swc-options.cjs');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// BUILD_OUT: another output folder inside the repository (node_modules must resolve from it).
const out = path.resolve(root, process.env.BUILD_OUT ?? 'dist');

// The web uploader is a browser bundle of its own (apps/upload-api/web/build.mjs, below), not server code.
const BROWSER_SOURCES = path.join(root, 'apps', 'upload-api', 'web');

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && full === BROWSER_SOURCES) continue;
    if (entry.isDirectory()) yield* sources(full);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !/\.(spec|test)\.ts$/.test(entry.name)) yield full;
  }
}

const options = swcOptions({ rewritePaths: true });
await rm(out, { recursive: true, force: true });
const started = Date.now();
let count = 0;
const jobs = [];
for (const top of ['apps', 'libs', 'bench']) {
  for await (const file of sources(path.join(root, top))) {
    jobs.push(
      (async () => {
        const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, '.js');
        const { code, map } = await transformFile(file, { ...options, filename: file, sourceFileName: path.relative(path.dirname(target), file) });
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
        if (map) await writeFile(`${target}.map`, map);
        count++;
      })(),
    );
  }
}
await Promise.all(jobs);
console.log(`built ${count} files into dist/ in ${Date.now() - started} ms`);
// The web uploader served at /app/ (dist/web), after dist/ was emptied above.
await import('../apps/upload-api/web/build.mjs');
