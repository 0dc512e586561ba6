import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { freePort } from '@app/testing';
import { launchChromium } from './chromium';
import { createTenant, E2eStack, startStack, userToken } from './stack';

const ROOT = path.resolve(__dirname, '../..');
const SDK = path.join(ROOT, 'libs/sdk');
const MiB = 1024 ** 2;
/** The stack's multipart threshold and smallest part, set here so the sizes below are known to straddle it. */
const THRESHOLD = 8 * MiB;
const MIN_PART = 5 * MiB;
const STORED = ['uploaded', 'processing', 'ready'];
const run = promisify(execFile);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Progress {
  bytesUploaded: number;
  totalBytes: number;
  partsDone: number;
  partCount: number;
}
/** What each consumer (Node script or page) reports back. */
interface Report {
  id: string;
  status: string;
  mode: string;
  partSize?: number;
  progress: Progress[];
  resolved?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * Byte-level progress: more events than parts, some of them inside a part (not a sum of whole
 * parts), never going backwards, the last one at exactly the size with every part done.
 */
function expectByteLevelProgress(consumer: string, report: Report, size: number): void {
  const { progress } = report;
  const values = progress.map((p) => p.bytesUploaded);
  const last = progress.at(-1)!;
  expect(last).toEqual({ bytesUploaded: size, totalBytes: size, partsDone: last.partCount, partCount: last.partCount });
  expect(values.every((v, i) => i === 0 || v >= values[i - 1])).toBe(true);
  expect(progress.length).toBeGreaterThan(last.partCount + 1);
  const partSize = report.mode === 'multipart' ? report.partSize! : size;
  const lastPart = size - partSize * (last.partCount - 1);
  const wholeParts = new Set<number>();
  for (let k = 0; k <= last.partCount; k++) wholeParts.add(k * partSize).add(k * partSize + lastPart - partSize);
  const inside = values.filter((v) => !wholeParts.has(v)).length;
  expect(inside).toBeGreaterThan(0);
  process.stdout.write(`sdk-package: ${consumer}: ${size} bytes in ${last.partCount} part(s), ${progress.length} progress events, ${inside} inside a part\n`);
}

/**
 * The SDK as its users get it: built (libs/sdk/build.mjs) and packed with npm, installed from the
 * tarball into a scratch project outside the repository, then used from Node (ESM and CommonJS,
 * each a child process), from headless Chromium (the ESM browser build, loaded through the exports
 * map), and from TypeScript (type-checked through the exports map, bundler and node16 resolution)
 * against the real stack.
 */
describe('the SDK package (@upload-platform/sdk) from its tarball', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'upl-sdk-package-'));
  const consumer = path.join(work, 'consumer');
  const installed = path.join(consumer, 'node_modules/@upload-platform/sdk');
  let stack: E2eStack;
  let apiUrl: string;
  let apiKey: string;
  let packed: { files: Array<{ path: string }>; filename: string };

  /** Builds into a staged copy of the package (libs/sdk's package.json and README), packs it, installs the tarball. */
  async function buildPackInstall(): Promise<void> {
    const staged = path.join(work, 'package');
    mkdirSync(staged);
    for (const file of ['package.json', 'README.md']) cpSync(path.join(SDK, file), path.join(staged, file));
    await run(process.execPath, [path.join(SDK, 'build.mjs'), '--out-dir', path.join(staged, 'dist')], { cwd: ROOT });
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: staged });
    [packed] = JSON.parse(stdout) as Array<typeof packed>;
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'scratch-consumer', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(work, packed.filename)], { cwd: consumer });
  }

  beforeAll(async () => {
    const started = Date.now();
    [stack] = await Promise.all([
      startStack({ services: ['upload-api', 'chunk-tracker'], env: { MULTIPART_THRESHOLD_BYTES: String(THRESHOLD), MIN_PART_BYTES: String(MIN_PART) } }),
      buildPackInstall(),
    ]);
    apiUrl = stack.service('upload-api').url;
    ({ apiKey } = await createTenant(stack, { name: 'sdk-package', quotaBytes: 1024 ** 3 }));
    process.stdout.write(`sdk-package: stack started, package built, packed and installed in ${Date.now() - started} ms\n`);
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const download = async (id: string) => {
    const res = await fetch(`${apiUrl}/v1/files/${id}/content`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'pkg' } });
    expect(res.status).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  };

  /** Runs a script of the scratch project with a clean environment; its last stdout line is its JSON report. */
  const runScript = async (file: string, args: string[]): Promise<Report> => {
    const { stdout } = await run(process.execPath, [file, ...args], {
      cwd: consumer,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      maxBuffer: 64 * MiB,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
  };

  it('ships only dist and the README, with no dependencies, and an exports map whose every file exists', () => {
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, any>;
    expect(manifest.dependencies).toBeUndefined();
    expect(packed.files.map((f) => f.path).filter((p) => !p.startsWith('dist/'))).toEqual(expect.arrayContaining(['package.json', 'README.md']));
    expect(packed.files.every((f) => f.path.startsWith('dist/') || ['package.json', 'README.md'].includes(f.path))).toBe(true);
    for (const entry of ['.', './node']) {
      for (const [condition, ext] of [
        ['import', 'mjs'],
        ['require', 'cjs'],
      ]) {
        const target = manifest.exports[entry][condition] as { types: string; default: string };
        expect(target.default).toMatch(new RegExp(`\\.${ext}$`));
        expect(target.types).toMatch(new RegExp(`\\.d\\.${ext.replace('js', 'ts')}$`));
        for (const file of [target.default, target.types]) expect(packed.files.map((f) => `./${f.path}`)).toContain(file);
      }
    }
  });

  it('Node, ESM: imports the main and node entries, uploads a file in parts with byte-level progress; storage holds its bytes', async () => {
    const size = 3 * MIN_PART + 12_345; // above the threshold: four parts
    const bytes = randomBytes(size);
    const file = path.join(work, 'esm.bin');
    writeFileSync(file, bytes);
    writeFileSync(
      path.join(consumer, 'upload.mjs'),
      `import { UploadClient, UploadApiError } from '@upload-platform/sdk';
import { fromFile, UploadApiError as NodeEntryError } from '@upload-platform/sdk/node';
const [baseUrl, token, file] = process.argv.slice(2);
const client = new UploadClient({ baseUrl, token, ownerId: 'pkg' });
const source = await fromFile(file);
const progress = [];
const upload = client.upload(source, { filename: 'esm.bin', concurrency: 2, progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
const { id } = await upload.done;
await source.close();
const stored = await client.waitUntilStored(id, { timeoutMs: 60_000 });
let error = null;
try {
  await client.api.get('00000000-0000-4000-8000-000000000000');
} catch (e) {
  error = { isApiError: e instanceof UploadApiError, code: e.code, status: e.status };
}
const resolved = { main: import.meta.resolve('@upload-platform/sdk'), node: import.meta.resolve('@upload-platform/sdk/node') };
console.log(JSON.stringify({ id, status: stored.status, mode: stored.mode, partSize: stored.partSize, progress, error, sameClass: UploadApiError === NodeEntryError, resolved }));
`,
    );
    const report = await runScript('upload.mjs', [apiUrl, apiKey, file]);
    expect(report.resolved).toEqual({
      main: `file://${installed}/dist/index.mjs`,
      node: `file://${installed}/dist/node.mjs`,
    });
    expect(report.sameClass).toBe(true); // both entries share one copy of each class
    expect(report.error).toEqual({ isApiError: true, code: 'not_found', status: 404 });
    expect(report.mode).toBe('multipart');
    expect(report.progress.at(-1)!.partCount).toBe(4);
    expect(STORED).toContain(report.status);
    expectByteLevelProgress('Node ESM', report, size);
    expect(sha(await download(report.id))).toBe(sha(bytes));
  });

  it('Node, CommonJS: requires the package, uploads a file in one PUT with byte-level progress; storage holds its bytes', async () => {
    const size = THRESHOLD - 1; // one PUT
    const bytes = randomBytes(size);
    const file = path.join(work, 'cjs.bin');
    writeFileSync(file, bytes);
    writeFileSync(
      path.join(consumer, 'upload.cjs'),
      `const sdk = require('@upload-platform/sdk');
const { UploadClient, fromFile } = require('@upload-platform/sdk/node');
async function main() {
  const [baseUrl, token, file] = process.argv.slice(2);
  const client = new UploadClient({ baseUrl, token, ownerId: 'pkg' });
  const source = await fromFile(file);
  const progress = [];
  const upload = client.upload(source, { filename: 'cjs.bin', progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
  const { id } = await upload.done;
  await source.close();
  const stored = await client.waitUntilStored(id, { timeoutMs: 60_000 });
  const resolved = { main: require.resolve('@upload-platform/sdk'), node: require.resolve('@upload-platform/sdk/node') };
  console.log(JSON.stringify({ id, status: stored.status, mode: stored.mode, progress, sameClass: sdk.UploadClient === UploadClient, resolved }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const report = await runScript('upload.cjs', [apiUrl, apiKey, file]);
    expect(report.resolved).toEqual({ main: `${installed}/dist/index.cjs`, node: `${installed}/dist/node.cjs` });
    expect(report.sameClass).toBe(true);
    expect(report.mode).toBe('single');
    expect(STORED).toContain(report.status);
    expectByteLevelProgress('Node CommonJS', report, size);
    expect(sha(await download(report.id))).toBe(sha(bytes));
  });

  describe('in Chromium', () => {
    let browser: Browser;
    let page: Server;
    let pageUrl: string;

    beforeAll(async () => {
      // The browser gets the file the exports map names for `import` (what a bundler would pick).
      const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> };
      const entry = `/node_modules/@upload-platform/sdk/${manifest.exports['.'].import.default.replace(/^\.\//, '')}`;
      const html = `<!doctype html><title>sdk package</title>
<script type="importmap">${JSON.stringify({ imports: { '@upload-platform/sdk': entry } })}</script>
<script type="module">import * as sdk from '@upload-platform/sdk'; window.UploadSdk = sdk; window.sdkLoaded = true;</script>`;
      const port = await freePort();
      page = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://page');
        if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
        // Only files of the installed package, from the scratch project's node_modules.
        const file = path.join(consumer, path.normalize(url.pathname));
        if (!file.startsWith(`${installed}/dist/`)) return res.writeHead(404).end();
        try {
          res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
        } catch {
          res.writeHead(404).end();
        }
      }).listen(port, '127.0.0.1');
      pageUrl = `http://127.0.0.1:${port}/`;
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      page?.close();
    });

    it('loads the ESM browser build, uploads a Blob in parts through XMLHttpRequest with byte-level progress; storage holds its bytes', async () => {
      const size = 4 * MIN_PART + 777; // five parts
      const token = await userToken(stack, apiKey, 'pkg');
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(pageUrl);
      await tab.waitForFunction(() => (globalThis as { sdkLoaded?: boolean }).sdkLoaded === true);
      // Each request of this page sends at most 4 MiB/s (Chromium's own network throttling): on
      // loopback a part would be gone before Chromium's first upload progress report (~100 ms).
      const cdp = await tab.context().newCDPSession(tab);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * MiB });
      const report = (await tab.evaluate(
        async ({ baseUrl, token, size }) => {
          type Sdk = typeof import('../../libs/sdk/src/index');
          const sdk = (globalThis as unknown as { UploadSdk: Sdk }).UploadSdk;
          const bytes = new Uint8Array(size);
          for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65_536)));
          const progress: Array<{ bytesUploaded: number; totalBytes: number; partsDone: number; partCount: number }> = [];
          const client = new sdk.UploadClient({ baseUrl, token });
          const upload = client.upload(sdk.fromBlob(new Blob([bytes])), {
            filename: 'from the package.bin',
            progressIntervalMs: 0,
            onProgress: (p) => progress.push(p),
          });
          const { id } = await upload.done;
          const stored = await client.waitUntilStored(id, { timeoutMs: 60_000 });
          const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
          // How the part PUTs went out: XMLHttpRequest (upload progress events), not fetch.
          const storagePuts = performance
            .getEntriesByType('resource')
            .filter((e) => e.name.includes('X-Amz-Signature='))
            .map((e) => (e as PerformanceResourceTiming).initiatorType);
          return { id, status: stored.status, mode: stored.mode, partSize: stored.partSize, progress, digest, storagePuts };
        },
        { baseUrl: apiUrl, token, size },
      )) as Report & { digest: string; storagePuts: string[] };
      await tab.close();
      expect(errors).toEqual([]);
      expect(report.mode).toBe('multipart');
      expect(report.progress.at(-1)!.partCount).toBe(5);
      expect(report.storagePuts).toEqual(Array(5).fill('xmlhttprequest'));
      expect(STORED).toContain(report.status);
      expectByteLevelProgress('Chromium', report, size);
      expect(sha(await download(report.id))).toBe(report.digest);
    });
  });

  it('type-checks a TypeScript consumer through the exports map (bundler and node16 resolution, ESM and CommonJS; node10 through typesVersions)', async () => {
    const dir = path.join(consumer, 'ts');
    mkdirSync(dir);
    // Used as a browser app would (DOM library, no Node types): the browser's XMLHttpRequest fits the option.
    writeFileSync(
      path.join(dir, 'browser-app.ts'),
      `import { UploadApiError, UploadClient, fromBlob, type UploadProgress, type UploadState } from '@upload-platform/sdk';
const client = new UploadClient({ baseUrl: 'https://uploads.example.com', token: () => 'token', XMLHttpRequest });
export async function send(file: File, onProgress: (p: UploadProgress) => void): Promise<UploadState> {
  const upload = client.upload(fromBlob(file), { filename: file.name, contentType: file.type, onProgress });
  const { id } = await upload.done;
  return client.waitUntilStored(id);
}
export const codeOf = (e: unknown): string | null => (e instanceof UploadApiError ? e.code : null);
// @ts-expect-error the main entry has no fromFile (it is Node-only)
export { fromFile } from '@upload-platform/sdk';
// @ts-expect-error the types are real, not any
export const wrong: number = client;
`,
    );
    // Node, ESM and CommonJS (node16 picks the import or require condition by the file's format).
    const nodeApp = (kind: 'mts' | 'cts' | 'ts') =>
      `import { UploadClient, fromFile, type Upload, type UploadState } from '@upload-platform/sdk/node';
import { ChangeFeed } from '@upload-platform/sdk';
export async function send(path: string): Promise<UploadState> {
  const client = new UploadClient({ baseUrl: 'http://127.0.0.1:3000', token: 'key', ownerId: 'alice' });
  const source = await fromFile(path);
  const upload: Upload = client.upload(source, { filename: '${kind}.bin', onProgress: (p) => p.bytesUploaded / p.totalBytes });
  await upload.done;
  await source.close();
  return client.waitUntilStored(upload.id!);
}
export const feed = new ChangeFeed({ baseUrl: 'http://127.0.0.1:3001', token: 't', onChange: (c) => void c.cursor });
// @ts-expect-error the types are real, not any
export const wrong: string = new UploadClient({ baseUrl: '', token: '' }).api.retry;
`;
    writeFileSync(path.join(dir, 'node-app.mts'), nodeApp('mts'));
    writeFileSync(path.join(dir, 'node-app.cts'), nodeApp('cts'));
    // A project still on the legacy resolution (node10: no exports map) finds the subpath through typesVersions.
    writeFileSync(path.join(dir, 'legacy-app.ts'), nodeApp('ts'));
    const common = { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: false, typeRoots: [path.join(ROOT, 'node_modules/@types')] };
    writeFileSync(
      path.join(dir, 'tsconfig.bundler.json'),
      JSON.stringify({
        compilerOptions: { ...common, module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2023', 'DOM'], types: [] },
        files: ['browser-app.ts'],
      }),
    );
    writeFileSync(
      path.join(dir, 'tsconfig.node16.json'),
      JSON.stringify({
        compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16', lib: ['ES2023'], types: ['node'] },
        files: ['node-app.mts', 'node-app.cts'],
      }),
    );
    writeFileSync(
      path.join(dir, 'tsconfig.node10.json'),
      JSON.stringify({
        compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10', lib: ['ES2023'], types: ['node'] },
        files: ['legacy-app.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const check = async (project: string) => {
      try {
        return (await run(process.execPath, [tsc, '-p', project, '--listFiles'], { cwd: dir })).stdout;
      } catch (error) {
        throw new Error(`tsc -p ${project} failed:\n${(error as { stdout?: string }).stdout}`, { cause: error });
      }
    };
    const [bundler, node16, node10] = await Promise.all(['bundler', 'node16', 'node10'].map((r) => check(`tsconfig.${r}.json`)));
    expect(bundler).toContain(`${installed}/dist/index.d.mts`);
    // The ESM file resolved the import condition's .d.mts, the CommonJS file the require condition's .d.cts.
    for (const file of ['index.d.mts', 'node.d.mts', 'index.d.cts', 'node.d.cts']) expect(node16).toContain(`${installed}/dist/${file}`);
    for (const file of ['index.d.cts', 'node.d.cts']) expect(node10).toContain(`${installed}/dist/${file}`);
  });
});
