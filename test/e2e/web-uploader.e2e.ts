import AxeBuilder from '@axe-core/playwright';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, JSHandle, Locator, Page, Request } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium } from './chromium';
import { seededBytes as bigBytes } from './seeded-bytes';
import { createTenant, E2eStack, sleep, startStack, until, userToken } from './stack';

const MiB = 1024 ** 2;
const BIG = { name: 'big.bin', size: 100 * MiB, seed: 0x2545f491, lastModified: 1_760_000_000_000 };
const TEXT = 'Notes from the web uploader test.\n'.repeat(40);
const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
// Each part PUT of the big file is held this long before it goes to storage: on loopback 100 MiB
// would otherwise be stored before a pause or a reload could land mid-upload. (Chromium's network
// emulation, CDP Network.emulateNetworkConditions, does not slow XHR upload bodies.)
const PART_HOLD_MS = 1_500;

interface StoragePut {
  partNumber: number | null;
  bytes: number;
  status: number;
  afterReload: boolean;
}

/**
 * Issue #14: the web uploader upload-api serves at /app/, driven in Chromium against the real
 * stack: three files dropped (one of 100 MiB), pause and resume, a reload mid-upload continued
 * without re-sending a part storage holds (every storage PUT counted), the files listed live with
 * the image's thumbnail, and axe-core finding no serious or critical accessibility violation.
 */

/** A function the page gets before its scripts run: a file of seeded random bytes. */
interface SeededFiles {
  seededFile(b: { name: string; size: number; seed: number; lastModified: number }): File;
}
describe('the web uploader (/app/, Chromium)', () => {
  let stack: E2eStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let apiUrl: string;
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ services: ['sync-notifier', 'chunk-tracker', 'media-processor'] });
    // upload-api tells the page where sync-notifier is (and lets it connect there, CSP).
    stack.env.PUBLIC_SYNC_URL = stack.service('sync-notifier').url;
    apiUrl = (await stack.restart('upload-api')).url;
    const { apiKey } = await createTenant(stack, { name: 'web' });
    token = await userToken(stack, apiKey, 'web-user');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('uploads three dropped files with pause, resume and a reload, lists them live with a thumbnail, and passes axe', async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    // The big file, made in the page from a seed (the same bytes before and after the reload, and
    // as bigBytes makes them here: the page gets that very function).
    await page.addInitScript(`globalThis.bigBytes = ${bigBytes.toString()};`);
    await page.addInitScript(() => {
      const files = globalThis as unknown as SeededFiles & { bigBytes: typeof bigBytes };
      files.seededFile = (b) =>
        new File([files.bigBytes(b.size, b.seed) as Uint8Array<ArrayBuffer>], b.name, { type: 'application/octet-stream', lastModified: b.lastModified });
    });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    const storageOrigin = new URL(stack.storage.S3_ENDPOINT!).origin;
    const urls: string[] = [];
    const puts: StoragePut[] = [];
    let reloaded = false;
    let putsStarted = 0;
    // Each storage PUT is tagged when it starts with whether the page sent it after the reload (one
    // sent before may finish after), and with the page's epoch: a pause or the reload ends one, and
    // the page cancels the PUTs it has in flight then.
    let epoch = 0;
    const sent = new WeakMap<Request, { afterReload: boolean; epoch: number }>();
    page.on('request', (request) => {
      urls.push(request.url());
      if (request.method() !== 'PUT' || !request.url().startsWith(storageOrigin)) return;
      putsStarted++;
      sent.set(request, { afterReload: reloaded, epoch });
    });
    page.on('requestfinished', (request) => {
      if (request.method() !== 'PUT' || !request.url().startsWith(storageOrigin)) return;
      const afterReload = sent.get(request)?.afterReload ?? false;
      void Promise.all([request.response(), request.sizes()]).then(([response, sizes]) => {
        const part = new URL(request.url()).searchParams.get('partNumber');
        puts.push({ partNumber: part ? Number(part) : null, bytes: sizes.requestBodySize, status: response?.status() ?? 0, afterReload });
      });
    });
    const bigPuts = () => puts.filter((p) => p.partNumber !== null && p.status === 200);
    await page.route(
      (url) => url.origin === storageOrigin && url.searchParams.has('partNumber'),
      async (route) => {
        await sleep(PART_HOLD_MS);
        // The page paused or reloaded meanwhile and cancelled this PUT. Held here, it would outlive
        // that and still reach storage (it did in CI, beside the part sent again), so it is
        // cancelled here as Chromium cancels one on the wire.
        if (sent.get(route.request())?.epoch !== epoch) return route.abort('aborted').catch(() => undefined);
        await route.continue().catch(() => undefined);
      },
    );

    // Sign in with a user token.
    await page.goto(`${apiUrl}/app/`);
    await page.getByLabel('User token').waitFor();
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('User token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as web-user').waitFor();
    await page.locator('#feed-status[data-status="connected"]').waitFor();
    await expectAccessible(page, 'at rest');
    await screenshot(page, 'rest');

    // Drop three files: an image, a text file and 100 MiB.
    const png = await sharp(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200"><defs><linearGradient id="g" x2="1" y2="1">' +
          '<stop offset="0" stop-color="#0b5cad"/><stop offset="1" stop-color="#f5a524"/></linearGradient></defs>' +
          '<rect width="320" height="200" fill="url(#g)"/><circle cx="220" cy="80" r="40" fill="#fff" opacity=".8"/></svg>',
      ),
    )
      .png()
      .toBuffer();
    await drop(
      page,
      await page.evaluateHandle(
        ({ png, text, big }) => {
          const transfer = new DataTransfer();
          transfer.items.add(
            new File([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], 'photo.png', { type: 'image/png', lastModified: big.lastModified }),
          );
          transfer.items.add(new File([text], 'notes.txt', { type: 'text/plain', lastModified: big.lastModified }));
          transfer.items.add((globalThis as unknown as SeededFiles).seededFile(big));
          return transfer;
        },
        { png: png.toString('base64'), text: TEXT, big: BIG },
      ),
    );
    const bigRow = page.locator('li.upload', { hasText: BIG.name });
    const bigBar = page.getByRole('progressbar', { name: `Upload of ${BIG.name}` });
    const percent = async () => Number(await bigBar.getAttribute('aria-valuenow'));
    await until('the big file is under way', async () => (await percent()) >= 8, 30_000);
    await page.locator('li.upload[data-state="done"]', { hasText: 'notes.txt' }).waitFor();
    await screenshot(page, 'uploading');

    // Pause: nothing more goes to storage and the bar holds still; then resume.
    const storedBeforePause = bigPuts().length;
    epoch++;
    await page.getByRole('button', { name: `Pause ${BIG.name}` }).click();
    await inState(bigRow, 'paused');
    await sleep(300); // a PUT the pause cancelled may still be reported as started
    const pausedAt = { percent: await percent(), puts: putsStarted };
    await sleep(1_500);
    expect({ percent: await percent(), puts: putsStarted }).toEqual(pausedAt);
    await page.getByRole('button', { name: `Resume ${BIG.name}` }).click();
    await inState(bigRow, 'uploading');

    // Reload once storage holds some parts and not all.
    await until('more parts of the big file stored', () => bigPuts().length > storedBeforePause, 30_000);
    expect(await percent()).toBeLessThan(90);
    reloaded = true;
    epoch++;
    await page.reload();
    const [pending] = await page.evaluate(readPendingUploads);
    expect(pending).toMatchObject({ name: BIG.name, size: BIG.size, lastModified: BIG.lastModified });
    const held = (await (await fetch(`${apiUrl}/v1/uploads/${pending.uploadId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      status: string;
      partSize: number;
      partCount: number;
      uploadedParts: Array<{ partNumber: number; size: number }>;
    };
    const storedAtReload = new Set(held.uploadedParts.map((p) => p.partNumber));
    const storedBytes = held.uploadedParts.reduce((s, p) => s + p.size, 0);
    expect(storedAtReload.size).toBeGreaterThanOrEqual(2);
    expect(storedAtReload.size).toBeLessThan(held.partCount);

    // The page offers to continue; the big file is dropped again and only what storage lacks goes.
    await page.getByText('Signed in as web-user').waitFor();
    await inState(bigRow, 'needs-file');
    await drop(
      page,
      await page.evaluateHandle((big) => {
        const transfer = new DataTransfer();
        transfer.items.add((globalThis as unknown as SeededFiles).seededFile(big));
        return transfer;
      }, BIG),
    );
    await page.locator('li.upload[data-state="done"]', { hasText: BIG.name }).waitFor({ timeout: 60_000 });

    // Bytes sent to storage: no part storage held at the reload was sent again.
    await sleep(200); // the last requestfinished handlers settle
    const resent = puts.filter((p) => p.afterReload && p.partNumber !== null && storedAtReload.has(p.partNumber));
    expect(resent).toEqual([]);
    const afterReload = puts.filter((p) => p.afterReload && p.partNumber !== null && p.status === 200);
    const bytesAfterReload = afterReload.reduce((s, p) => s + p.bytes, 0);
    expect(bytesAfterReload).toBeLessThanOrEqual(BIG.size - storedBytes);
    expect(bytesAfterReload).toBeGreaterThan(0);
    // Neither page sent a part twice. (Across the reload, only what storage held when the new page
    // asked counts: a part the old page sent that landed after that was sent again, rightly.)
    for (const afterReload of [false, true]) {
      const succeeded = bigPuts()
        .filter((p) => p.afterReload === afterReload)
        .map((p) => p.partNumber);
      const twice = succeeded.filter((n, i) => succeeded.indexOf(n) !== i);
      expect({ afterReload, twice }).toEqual({ afterReload, twice: [] });
    }
    console.log(
      `web uploader: ${held.partCount} parts of ${held.partSize} bytes; ${storedAtReload.size} held at the reload (${storedBytes} bytes); ` +
        `${afterReload.length} parts (${bytesAfterReload} bytes) sent after it; ${puts.length} storage PUTs finished in all`,
    );

    // Every file appears in the list, the image with its thumbnail.
    const files = page.locator('#files li.file');
    for (const name of ['photo.png', 'notes.txt', BIG.name]) await files.filter({ hasText: name }).waitFor({ timeout: 60_000 });
    const thumb = files.filter({ hasText: 'photo.png' }).getByRole('img', { name: 'Preview of photo.png' });
    await thumb.waitFor({ timeout: 60_000 });
    await until('the thumbnail is loaded', () => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 10_000);
    await page.locator('#files li.file[data-status="ready"]', { hasText: 'notes.txt' }).waitFor({ timeout: 60_000 });
    await expectAccessible(page, 'done');
    await screenshot(page, 'done');

    // The stored big file is exactly the bytes the page held.
    const download = await fetch(`${apiUrl}/v1/files/${pending.uploadId}/content`, { headers: { authorization: `Bearer ${token}` } });
    expect(download.status).toBe(200);
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(digest(new Uint8Array(await download.arrayBuffer()))).toBe(digest(bigBytes(BIG.size, BIG.seed)));

    // The narrow-screen layout is accessible too; the token never went into a URL (only the WebSocket's).
    await page.setViewportSize({ width: 375, height: 800 });
    await expectAccessible(page, 'narrow');
    expect(urls.filter((u) => u.includes(token))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);
});

describe('the web uploader for an administrator (/app/, Chromium)', () => {
  let stack: E2eStack;
  let browser: Browser;
  let apiUrl: string;
  let tenant: { id: string; apiKey: string };
  let folder: string;

  beforeAll(async () => {
    stack = await startStack({ services: ['sync-notifier', 'chunk-tracker', 'media-processor'] });
    stack.env.PUBLIC_SYNC_URL = stack.service('sync-notifier').url;
    apiUrl = (await stack.restart('upload-api')).url;
    tenant = await createTenant(stack, { name: 'web-admin' });
    // A folder to pick, with a subfolder: the files are uploaded under their paths in it.
    folder = path.join(await mkdtemp(path.join(tmpdir(), 'web-uploader-')), 'album');
    await mkdir(path.join(folder, 'sub'), { recursive: true });
    await writeFile(path.join(folder, 'a.txt'), 'first file of the album\n');
    await writeFile(path.join(folder, 'sub', 'b.txt'), 'second file, in a subfolder\n');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (folder) await rm(path.dirname(folder), { recursive: true, force: true });
  });

  it('signs in with an API key and an owner id; uploads a picked folder; retries a failed upload; cancels one (aborted, quota released); deletes a file', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (dialog) => void dialog.accept()); // "Delete a.txt?"
    const storageOrigin = new URL(stack.storage.S3_ENDPOINT!).origin;
    // Storage as the test wants it: refusing every PUT while `refusing`, parts held on their way.
    let refusing = false;
    await page.route(
      (url) => url.origin === storageOrigin,
      async (route) => {
        if (route.request().method() !== 'PUT') return route.continue();
        if (refusing) return route.fulfill({ status: 403, contentType: 'application/xml', body: '<Error><Code>AccessDenied</Code></Error>' });
        if (new URL(route.request().url()).searchParams.has('partNumber')) await sleep(PART_HOLD_MS);
        await route.continue().catch(() => undefined); // cancelled meanwhile
      },
    );

    // Sign in as an administrator: the key mints a token for the owner and is not kept.
    await page.goto(`${apiUrl}/app/`);
    await page.getByText('Administrators: sign in with an API key').click();
    await page.getByLabel('Tenant API key').fill(tenant.apiKey);
    await page.getByLabel('Owner id').fill('admin-owner');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as admin-owner').waitFor();
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(tenant.apiKey);

    // A folder from the folder picker: each file uploaded under its path in the folder.
    await page.setInputFiles('#folder-input', folder);
    for (const name of ['album/a.txt', 'album/sub/b.txt']) {
      await page.locator('li.upload[data-state="done"]', { hasText: name }).waitFor({ timeout: 30_000 });
      await page.locator('#files li.file', { hasText: name }).waitFor({ timeout: 30_000 });
    }

    // Storage refuses the PUT: the row fails and offers a retry, which succeeds once storage takes it.
    refusing = true;
    await page.setInputFiles('#file-input', { name: 'flaky.txt', mimeType: 'text/plain', buffer: Buffer.from('sent twice, stored once\n') });
    const flaky = page.locator('li.upload', { hasText: 'flaky.txt' });
    await inState(flaky, 'failed');
    refusing = false;
    await page.getByRole('button', { name: 'Retry flaky.txt' }).click();
    await inState(flaky, 'done');
    await page.locator('#files li.file', { hasText: 'flaky.txt' }).waitFor({ timeout: 30_000 });

    // Cancel a multipart upload mid-way: the upload ends aborted and its reservation is released.
    const reserved = async () =>
      Number((await stack.sql<{ reserved: string }>('SELECT reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1', [tenant.id]))[0].reserved);
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/uploads');
    await page.setInputFiles('#file-input', { name: 'cancel-me.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(bigBytes(24 * MiB, 7)) });
    const { id: cancelledId } = (await (await created).json()) as { id: string };
    const cancelRow = page.locator('li.upload', { hasText: 'cancel-me.bin' });
    await inState(cancelRow, 'uploading');
    expect(await reserved()).toBe(24 * MiB);
    await page.getByRole('button', { name: 'Cancel cancel-me.bin' }).click();
    await inState(cancelRow, 'cancelled');
    const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'admin-owner' };
    await until('the cancelled upload aborted', async () => {
      const view = (await (await fetch(`${apiUrl}/v1/uploads/${cancelledId}?parts=ledger`, { headers })).json()) as { status: string };
      return view.status === 'aborted';
    });
    expect(await reserved()).toBe(0);

    // Delete a file from the list: gone from the list and from the API.
    const listed = page.locator('#files li.file', { hasText: 'album/a.txt' });
    const fileId = await listed.getAttribute('data-file-id');
    await page.getByRole('button', { name: 'Delete album/a.txt' }).click();
    await listed.waitFor({ state: 'detached' });
    const after = await fetch(`${apiUrl}/v1/files/${fileId}`, { headers });
    expect(after.status).toBe(404);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});

async function drop(page: Page, transfer: JSHandle<DataTransfer>): Promise<void> {
  await page.dispatchEvent('#drop-zone', 'dragenter', { dataTransfer: transfer });
  await page.dispatchEvent('#drop-zone', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
}

function readPendingUploads(): Promise<Array<{ uploadId: string; name: string; size: number; lastModified: number }>> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('upload-platform-web');
    open.onerror = () => reject(open.error ?? new Error('no IndexedDB'));
    open.onsuccess = () => {
      const request = open.result.transaction('pending-uploads').objectStore('pending-uploads').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB read failed'));
    };
  });
}

/** axe-core in the same browser: no serious or critical violation. */
async function expectAccessible(page: Page, when: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({ when, violations: bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`) }).toEqual({ when, violations: [] });
  console.log(
    `axe (${when}): ${results.passes.length} rules passed, ${results.violations.length} violations (${results.violations.map((v) => `${v.id}/${v.impact}`).join(', ') || 'none'})`,
  );
}

/** Screenshots for docs/ only when asked (UPDATE_SCREENSHOTS=1), so CI never rewrites committed files. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `web-uploader-${name}.png`), fullPage: true });
}

/** Waits for an upload row to reach a state (its data-state). */
async function inState(row: Locator, state: string): Promise<void> {
  await row.and(row.page().locator(`[data-state="${state}"]`)).waitFor({ timeout: 15_000 });
}
