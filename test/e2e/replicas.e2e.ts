import { randomBytes } from 'node:crypto';
import { freePort, ServiceName, ServiceProcess } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { Device, expectGapFree } from './sync-client';
import { RawClient } from './upload-client';

const UPLOADS = 1_000;
const OWNERS = 10;
const SIZE = 1024;
const SERVICES: ServiceName[] = ['upload-api', 'chunk-tracker', 'media-processor', 'sync-notifier'];

/** Runs `fn` over `items`, at most `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i], i);
    }),
  );
  return results;
}

/**
 * Two replicas of every service at once, on the tier's Redis Cluster and PgBouncer: 1,000 uploads
 * initiated (all in flight together) through both APIs, their bytes stored, their events shared
 * by both trackers, their verification by both media processors, and their changes pushed to
 * devices on both notifiers. Each upload ends with exactly one `file.uploaded` and one
 * `file.ready`, the quota is exact, and each device gets its owner's changes once, in order.
 */
describe('two replicas of every service', () => {
  let stack: E2eStack;
  const second = new Map<ServiceName, ServiceProcess>();

  beforeAll(async () => {
    stack = await startStack();
    await Promise.all(
      SERVICES.map(async (name) => {
        const replica = new ServiceProcess(name, await freePort(), stack.env).start();
        second.set(name, replica);
        await replica.ready();
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([...second.values()].map((s) => s.stop('SIGTERM')));
    await stack?.stop();
  });

  const replicas = (name: ServiceName) => [stack.service(name), second.get(name)!];

  it('carries 1,000 uploads in flight to ready: one file.uploaded and one file.ready each, quota exact', async () => {
    const tenant = await createTenant(stack, { quotaBytes: 1024 ** 3 });
    const owners = Array.from({ length: OWNERS }, (_, i) => `owner-${i}`);
    const apis = replicas('upload-api').map((api) => api.url);
    const notifiers = replicas('sync-notifier').map((n) => n.url);

    // One device per owner, alternating between the notifier replicas.
    const devices = await Promise.all(
      owners.map(async (ownerId, i) => {
        const minted = await new RawClient(apis[0], { authorization: `Bearer ${tenant.apiKey}` }).call('POST', '/v1/tokens', { ownerId });
        return Device.connect(notifiers[i % 2], minted.body.token as string);
      }),
    );

    // Every upload initiated first (all 1,000 in flight at once), alternating between the APIs...
    const initiated = await inParallel(
      Array.from({ length: UPLOADS }, (_, i) => i),
      32,
      async (i) => {
        const client = new RawClient(apis[i % 2], { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': owners[i % OWNERS] });
        const res = await client.call('POST', '/v1/uploads', { filename: `f-${i}.txt`, size: SIZE, contentType: 'text/plain' });
        if (res.status !== 201) throw new Error(`initiation ${i} answered ${res.status}: ${JSON.stringify(res.body)}`);
        return res.body as { id: string; upload: { url: string; headers: Record<string, string> } };
      },
    );
    const [{ reserved }] = await stack.sql<{ reserved: string }>('SELECT reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1', [tenant.id]);
    expect(Number(reserved)).toBe(UPLOADS * SIZE);

    // ...then the bytes, distinct for each file (no instant upload shortcut).
    await inParallel(initiated, 32, async ({ upload }, i) => {
      const body = Buffer.concat([Buffer.from(`file ${i} `), randomBytes(SIZE)]).subarray(0, SIZE);
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array(body) });
      if (put.status !== 200) throw new Error(`PUT ${i} answered ${put.status}`);
    });

    const ids = initiated.map((u) => u.id);
    await until(
      'every file ready',
      async () => {
        const [{ n }] = await stack.sql<{ n: string }>(`SELECT count(*) AS n FROM files WHERE id = ANY($1) AND status = 'ready'`, [ids]);
        return Number(n) === UPLOADS || null;
      },
      240_000,
      500,
    );

    const perFile = await stack.sql<{ type: string; files: string; min: string; max: string }>(
      `SELECT type, count(DISTINCT file_id) AS files, min(n) AS min, max(n) AS max FROM (
         SELECT type, file_id, count(*) AS n FROM change_events WHERE file_id = ANY($1) GROUP BY type, file_id
       ) per_file GROUP BY type ORDER BY type`,
      [ids],
    );
    expect(perFile.map((r) => [r.type, Number(r.files), Number(r.min), Number(r.max)])).toEqual(
      expect.arrayContaining([
        ['file.uploaded', UPLOADS, 1, 1],
        ['file.ready', UPLOADS, 1, 1],
      ]),
    );
    const [quota] = await stack.sql<{ used: string; reserved: string }>(
      'SELECT used_bytes AS used, reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1',
      [tenant.id],
    );
    expect({ used: Number(quota.used), reserved: Number(quota.reserved) }).toEqual({ used: UPLOADS * SIZE, reserved: 0 });

    // Each device: exactly its owner's changes, every one once and in order, whichever replica wrote it.
    const perOwner = UPLOADS / OWNERS;
    for (const [i, device] of devices.entries()) {
      const ready = () => device.changes.filter((c) => c.type === 'file.ready').length;
      await until(`owner ${i}'s device to get ${perOwner} file.ready (has ${ready()})`, async () => ready() >= perOwner || null, 60_000, 50);
      const changes = device.changes;
      expectGapFree(changes);
      const mine = new Set(ids.filter((_, n) => n % OWNERS === i));
      expect(changes.every((c) => c.fileId === null || mine.has(c.fileId))).toBe(true);
      expect(changes.filter((c) => c.type === 'file.uploaded')).toHaveLength(perOwner);
    }
    await Promise.all(devices.map((d) => d.close()));

    // Both replicas of each worker did part of the work.
    for (const tracker of replicas('chunk-tracker')) {
      const metrics = await (await fetch(`${tracker.url}/metrics`)).text();
      const uploaded = /storage_events_total\{[^}]*outcome="uploaded"[^}]*\} (\d+)/.exec(metrics);
      expect(Number(uploaded?.[1] ?? 0)).toBeGreaterThan(0);
    }
    for (const media of replicas('media-processor')) expect(media.output.some((line) => line.includes('file verified'))).toBe(true);
  }, 420_000);
});
