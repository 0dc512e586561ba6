import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { UploadClient } from '@app/sdk';
import { freePort } from '@app/testing';
import { launchChromium } from './chromium';
import { createTenant, E2eStack, startStack, userToken } from './stack';

const MiB = 1024 ** 2;

/**
 * The SDK in a real browser: bundled for the browser with esbuild, loaded by headless Chromium
 * from a page on another origin than the API (so CORS is exercised on the API and the bucket),
 * uploading a Blob straight to storage.
 */
describe('the SDK in a browser (headless Chromium)', () => {
  let stack: E2eStack;
  let browser: Browser;
  let page: Server;
  let pageUrl: string;
  let apiUrl: string;
  let apiKey: string;

  beforeAll(async () => {
    stack = await startStack({ services: ['upload-api', 'chunk-tracker'] });
    apiUrl = stack.service('upload-api').url;
    ({ apiKey } = await createTenant(stack, { name: 'browser' }));
    const bundle = await build({
      entryPoints: [path.resolve(__dirname, '../../libs/sdk/src/index.ts')],
      bundle: true,
      format: 'iife',
      globalName: 'UploadSdk',
      platform: 'browser',
      target: 'chrome120',
      write: false,
    });
    const sdk = bundle.outputFiles[0].text;
    const port = await freePort();
    page = createServer((req, res) => {
      if (req.url === '/sdk.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>upload</title><script src="/sdk.js"></script>');
    }).listen(port, '127.0.0.1');
    pageUrl = `http://127.0.0.1:${port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    page?.close();
    await stack?.stop();
  });

  it.each([
    ['a 1 KiB file (one PUT)', 1024],
    ['a 20 MiB file (parts with SHA-256 each)', 20 * MiB + 1],
  ])('uploads %s from a page; storage confirms it and the bytes match', async (_, size) => {
    const token = await userToken(stack, apiKey, 'browser-user');
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(pageUrl);
    const result = await tab.evaluate(
      async ({ baseUrl, token, size }) => {
        const sdk = (globalThis as unknown as { UploadSdk: typeof import('@app/sdk') }).UploadSdk;
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65_536)));
        const progress: number[] = [];
        const client = new sdk.UploadClient({ baseUrl, token });
        const upload = client.upload(sdk.fromBlob(new Blob([bytes])), {
          filename: 'from a browser.bin',
          contentType: 'application/octet-stream',
          concurrency: 3,
          onProgress: (p) => progress.push(p.bytesUploaded),
        });
        const done = await upload.done;
        const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
        return { id: done.id, digest, progress };
      },
      { baseUrl: apiUrl, token, size },
    );
    await tab.close();
    expect(errors).toEqual([]);
    expect(result.progress[result.progress.length - 1]).toBe(size);
    const client = new UploadClient({ baseUrl: apiUrl, token });
    expect((await client.waitUntilStored(result.id, { timeoutMs: 60_000 })).status).toBe('uploaded');
    const download = await fetch(`${apiUrl}/v1/files/${result.id}/content`, { headers: { authorization: `Bearer ${token}` } });
    expect(
      createHash('sha256')
        .update(Buffer.from(await download.arrayBuffer()))
        .digest('hex'),
    ).toBe(result.digest);
  });
});
