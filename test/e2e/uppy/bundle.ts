import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const V5_DIR = path.join(__dirname, 'v5');

/** The page's own `@uppy/*` imports resolved in test/e2e/uppy/v5 (what those import resolves there by itself). */
const fromUppy5: Plugin = {
  name: 'uppy-5',
  setup(b) {
    b.onResolve({ filter: /^@uppy\// }, (args) => (args.resolveDir === __dirname ? b.resolve(args.path, { resolveDir: V5_DIR, kind: args.kind }) : undefined));
  },
};

/**
 * page.ts bundled for the browser against one Uppy major: 6 from the project's own dependencies,
 * 5 from test/e2e/uppy/v5 (its own install, `npm ci --prefix test/e2e/uppy/v5`, which
 * scripts/test.sh runs before the e2e tier), whose aws-s3 finds its own core and companion-client.
 */
export async function bundleUppyPage(major: 5 | 6): Promise<string> {
  if (major === 5 && !existsSync(path.join(V5_DIR, 'node_modules', '@uppy', 'aws-s3')))
    throw new Error('Uppy 5 is not installed: run `npm ci --prefix test/e2e/uppy/v5` (scripts/test.sh does before the e2e tier)');
  const result = await build({
    entryPoints: [path.join(__dirname, 'page.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
    plugins: major === 5 ? [fromUppy5] : [],
  });
  return result.outputFiles[0].text;
}
