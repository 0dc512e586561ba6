import { createHash } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AddressInfo } from 'node:net';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { createS3Client } from '@app/storage';
import { launchChromium } from './chromium';
import { seededBytes } from './seeded-bytes';
import { createTenant, E2eStack, sleep, startStack, until, userToken } from './stack';
import { bundleUppyPage } from './uppy/bundle';
import type { UppyPage } from './uppy/page';

const MiB = 1024 ** 2;
const SMALL = { name: 'small.bin', size: 1 * MiB, seed: 0x1234567 };
const LARGE = { name: 'large.bin', size: 60 * MiB, seed: 0x7654321 };
// Each part PUT is held this long on its way to storage, so a pause or a cancel lands mid-upload
// (on loopback 60 MiB would otherwise be stored first).
const PART_HOLD_MS = 400;
const UUID_AT_END = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

type Major = 5 | 6;
/** Uppy's own options for each major, and nothing else: no callbacks, no glue (issue #14). */
const uppyOptions: Record<Major, (api: string, token: string) => Record<string, unknown>> = {
  // Uppy 5: Companion mode with a header on every call.
  5: (api, token) => ({ endpoint: `${api}/companion`, headers: { authorization: `Bearer ${token}` } }),
  // Uppy 6 sends no headers at all: the user token travels in the path.
  6: (api, token) => ({ companionEndpoint: `${api}/companion/t/${token}` }),
};

/**
 * Files up to 100 MiB: Uppy 6 by its defaults (one form POST under the platform's policy). Uppy 5
 * in parts: its POST path waits for an ETag header, which RGW does not send on a POST (AWS S3
 * does; docs/companion.md), so on this storage its files go as multipart, in its default 5 MiB.
 */
const SINGLE_FILE_OPTIONS: Record<Major, Record<string, unknown>> = { 5: { shouldUseMultipart: true }, 6: {} };

interface Seed {
  name: string;
  size: number;
  seed: number;
}
interface PageWindow {
  startUppy(options: Record<string, unknown>): UppyPage;
  uppyPage: UppyPage;
  seededBytes: typeof seededBytes;
}

/**
 * Issue #14, acceptance 1 and 2: Uppy 5 (`@uppy/aws-s3` 5.1.0, `endpoint`) and Uppy 6 (6.3.1,
 * `companionEndpoint`), bundled from their own packages into a page of another origin, upload to
 * the real stack in Chromium through /companion with no callbacks: a 1 MiB and a 60 MiB file by
 * Uppy's defaults (one form POST each, under the platform's POST policy), and 60 MiB in Uppy's
 * default 5 MiB parts, paused and resumed, and cancelled. Files end uploaded or later only
 * through storage's event; what is stored hashes to what the page held.
 */
describe.each([5, 6] as const)('Uppy %i with no glue, in Chromium', (major) => {
  let stack: E2eStack;
  let browser: Browser;
  let server: Server;
  let pageUrl: string;
  let api: string;
  let tenantId: string;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ storage: 'rgw', services: ['upload-api', 'chunk-tracker', 'media-processor'] });
    api = stack.service('upload-api').url;
    const tenant = await createTenant(stack, { name: `uppy-${major}` });
    tenantId = tenant.id;
    token = await userToken(stack, tenant.apiKey, `uppy-${major}-user`);
    const bundle = await bundleUppyPage(major);
    // The app's page on an origin of its own: every call to the API is cross-origin, as in a team's web app.
    server = createServer((req, res) => {
      if (req.url === '/uppy.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Uppy ${major}</title><script src="/uppy.js"></script>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.stop();
  });

  /** A fresh page with Uppy started on `extra` beside the major's own options; its network traffic recorded. */
  async function openUppy(extra: Record<string, unknown> = {}) {
    const page = await (await browser.newContext()).newPage();
    const storageOrigin = new URL(stack.storage.S3_ENDPOINT!).origin;
    const requests: Array<{ method: string; url: string }> = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route(
      (url) => url.origin === storageOrigin && url.searchParams.has('partNumber'),
      async (route) => {
        await sleep(PART_HOLD_MS);
        await route.continue().catch(() => undefined); // paused or cancelled meanwhile
      },
    );
    await page.addInitScript(`globalThis.seededBytes = ${seededBytes.toString()};`);
    await page.goto(pageUrl);
    await page.evaluate(
      (options) => {
        const w = window as unknown as PageWindow;
        w.uppyPage = w.startUppy(options);
      },
      { ...uppyOptions[major](api, token), ...extra },
    );
    const add = (seed: Seed) =>
      page.evaluate((s) => {
        const w = window as unknown as PageWindow;
        return w.uppyPage.add(new File([w.seededBytes(s.size, s.seed) as Uint8Array<ArrayBuffer>], s.name, { type: 'application/octet-stream' }));
      }, seed);
    // The page's Uppy, driven from here (each call runs in the page).
    const uppy = {
      upload: () => page.evaluate(() => (window as unknown as PageWindow).uppyPage.upload()),
      pauseResume: (id: string) => page.evaluate((i) => (window as unknown as PageWindow).uppyPage.pauseResume(i), id),
      cancel: (id: string) => page.evaluate((i) => (window as unknown as PageWindow).uppyPage.cancel(i), id),
      bytesUploaded: (id: string) => page.evaluate((i) => (window as unknown as PageWindow).uppyPage.bytesUploaded(i), id),
      events: () => page.evaluate(() => (window as unknown as PageWindow).uppyPage.events),
      done: () => page.evaluate(() => (window as unknown as PageWindow).uppyPage.done),
      whenDone: () => page.waitForFunction(() => (window as unknown as PageWindow).uppyPage.done !== null, undefined, { timeout: 60_000 }),
    };
    return { page, requests, errors, storageOrigin, add, ...uppy };
  }

  /** The stored file's id, from what Uppy's success event carries (the object key, or /v1/uploads/{id}). */
  async function successes(uppy: Awaited<ReturnType<typeof openUppy>>) {
    const events = await uppy.events();
    expect(events.filter((e) => e.type === 'upload-error')).toEqual([]);
    return new Map(events.flatMap((e) => (e.type === 'upload-success' ? [[e.name, UUID_AT_END.exec(e.key ?? e.uploadURL ?? '')![1]]] : [])));
  }

  /** The file as the API shows it, once storage's event (and processing) moved it past `uploaded`. */
  async function stored(fileId: string): Promise<{ status: string; size: number }> {
    let file: { status: string; size: number } = { status: '', size: 0 };
    await until(
      `file ${fileId} stored`,
      async () => {
        const res = await fetch(`${api}/v1/files/${fileId}`, { headers: { authorization: `Bearer ${token}` } });
        file = res.status === 200 ? ((await res.json()) as typeof file) : file;
        return ['uploaded', 'processing', 'ready'].includes(file.status);
      },
      60_000,
    );
    return file;
  }

  /** sha256 of the stored bytes, streamed from the download (never whole in memory). */
  async function downloadedSha256(fileId: string): Promise<string> {
    const res = await fetch(`${api}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const hash = createHash('sha256');
    for await (const chunk of Readable.fromWeb(res.body! as WebReadableStream<Uint8Array>)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
  const sourceSha256 = (s: Seed) => createHash('sha256').update(seededBytes(s.size, s.seed)).digest('hex');
  const quota = async () =>
    (
      await stack.sql<{ reserved: string; used: string }>('SELECT reserved_bytes AS reserved, used_bytes AS used FROM quota_totals WHERE tenant_id = $1', [
        tenantId,
      ])
    )[0] ?? { reserved: '0', used: '0' };

  it(`uploads a 1 MiB and a 60 MiB file: ${major === 6 ? "by Uppy's defaults, each one form POST under the platform's policy" : "in Uppy's default 5 MiB parts"}; stored through storage's event, intact`, async () => {
    const uppy = await openUppy(SINGLE_FILE_OPTIONS[major]);
    await uppy.add(SMALL);
    await uppy.add(LARGE);
    await uppy.upload();
    await uppy.whenDone();
    expect(await uppy.done()).toEqual({ successful: expect.arrayContaining([SMALL.name, LARGE.name]), failed: [] });

    const ids = await successes(uppy);
    for (const seed of [SMALL, LARGE]) {
      const file = await stored(ids.get(seed.name)!);
      expect(file.size).toBe(seed.size);
      expect(await downloadedSha256(ids.get(seed.name)!)).toBe(sourceSha256(seed));
    }
    const toStorage = uppy.requests.filter((r) => r.url.startsWith(uppy.storageOrigin) && r.method !== 'OPTIONS');
    if (major === 6) expect(toStorage.map((r) => r.method)).toEqual(['POST', 'POST']);
    else expect(toStorage.filter((r) => r.method === 'PUT' && new URL(r.url).searchParams.has('partNumber'))).toHaveLength(1 + 12);
    // The page called nothing of the API but /companion.
    expect(uppy.requests.filter((r) => r.url.startsWith(api) && !r.url.startsWith(`${api}/companion/`))).toEqual([]);
    expect(uppy.errors).toEqual([]);
    await uppy.page.context().close();
  }, 120_000);

  it("uploads 60 MiB in Uppy's default 5 MiB parts, paused and resumed mid-way; the parts stored are Uppy's", async () => {
    const uppy = await openUppy({ shouldUseMultipart: true });
    const fileId = await uppy.add(LARGE);
    await uppy.upload();
    await until('a third of the file sent', async () => (await uppy.bytesUploaded(fileId)) >= LARGE.size / 3, 30_000);

    await uppy.pauseResume(fileId);
    await sleep(PART_HOLD_MS + 300); // a part request the pause aborted may still be reported
    const paused = { bytes: await uppy.bytesUploaded(fileId), requests: uppy.requests.length };
    await sleep(1_500);
    expect({ bytes: await uppy.bytesUploaded(fileId), requests: uppy.requests.length }).toEqual(paused);
    expect(paused.bytes).toBeLessThan(LARGE.size);

    await uppy.pauseResume(fileId);
    await uppy.whenDone();
    const id = (await successes(uppy)).get(LARGE.name)!;
    expect((await stored(id)).size).toBe(LARGE.size);
    expect(await downloadedSha256(id)).toBe(sourceSha256(LARGE));
    // Completion checked the parts storage held: Uppy's twelve 5 MiB parts, not a plan of the server's.
    const parts = await stack.sql<{ part_number: number; size: string }>('SELECT part_number, size FROM file_parts WHERE file_id = $1 ORDER BY part_number', [
      id,
    ]);
    expect(parts.map((p) => Number(p.size))).toEqual(Array<number>(12).fill(5 * MiB));
    expect(uppy.errors).toEqual([]);
    await uppy.page.context().close();
  }, 120_000);

  it('cancels a 60 MiB multipart upload mid-way: the upload ends aborted, storage holds nothing of it, the quota is as before', async () => {
    const before = await quota();
    const uppy = await openUppy({ shouldUseMultipart: true });
    const created = uppy.page.waitForResponse((r) => r.request().method() === 'POST' && /\/s3\/multipart$/.test(new URL(r.url()).pathname));
    const fileId = await uppy.add(LARGE);
    await uppy.upload();
    const { uploadId } = (await (await created).json()) as { uploadId: string };
    await until('some parts sent', async () => (await uppy.bytesUploaded(fileId)) >= 10 * MiB, 30_000);
    await uppy.cancel(fileId);

    await until(
      'the upload aborted',
      async () => {
        const res = await fetch(`${api}/v1/uploads/${uploadId}`, { headers: { authorization: `Bearer ${token}` } });
        return ((await res.json()) as { status: string }).status === 'aborted';
      },
      15_000,
    );
    const s3 = createS3Client(stack.storage);
    try {
      await until(
        'storage holds no multipart upload of it',
        async () => {
          const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: stack.storage.S3_BUCKET }));
          return !(listed.Uploads ?? []).some((u) => u.Key?.endsWith(uploadId));
        },
        15_000,
      );
    } finally {
      s3.destroy();
    }
    expect(await quota()).toEqual(before);
    await uppy.page.context().close();
  }, 120_000);
});
