import { randomBytes, randomUUID } from 'node:crypto';
import { fromBytes, UploadClient } from '@app/sdk';
import { ObjectStorage } from '@app/storage';
import { freePort, ServiceName, residentBytes, ServiceProcess, testPresigner } from '@app/testing';
import { benchStack } from './bench-stack';
import { round } from './presign.bench';

const GiB = 1024 ** 3;
const PART = 8 * 1024 ** 2;
const CONCURRENCY = 8;

/** Raw parallel PUTs of the same bytes to the same emulator: no API, no checksums, no ledger. */
async function rawUpload(storage: ObjectStorage, presign: ReturnType<typeof testPresigner>['presigner'], bytes: Buffer): Promise<number> {
  // Outside the tracked prefix: no S3 events, and chunk-tracker's reconciler rightly leaves it alone.
  const key = `bench-raw/${randomUUID()}`;
  const start = performance.now();
  const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/octet-stream', checksumSha256: false });
  const count = Math.ceil(bytes.length / PART);
  const urls = await presign.uploadParts(
    key,
    uploadId,
    Array.from({ length: count }, (_, i) => ({ partNumber: i + 1 })),
  );
  const queue = [...urls];
  const etags: Array<{ partNumber: number; etag: string; checksumSha256: null }> = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let url = queue.shift(); url; url = queue.shift()) {
        const chunk = bytes.subarray((url.partNumber - 1) * PART, url.partNumber * PART);
        const res = await fetch(url.url, { method: 'PUT', body: new Uint8Array(chunk) });
        etags.push({ partNumber: url.partNumber, etag: (res.headers.get('etag') ?? '').replace(/"/g, ''), checksumSha256: null });
      }
    }),
  );
  await storage.completeMultipartUpload(
    key,
    uploadId,
    etags.sort((a, b) => a.partNumber - b.partNumber),
  );
  const ms = performance.now() - start;
  await storage.delete(key);
  return ms;
}

/**
 * A 1 GiB upload through the SDK and the real services vs raw parallel PUTs of the same bytes,
 * same emulator, same run; and upload-api's resident memory while the GiB passes.
 */
export async function benchUpload(): Promise<Record<string, number>> {
  const { db, storageEnv, env } = await benchStack();
  const services = new Map<ServiceName, ServiceProcess>();
  let sampler: NodeJS.Timeout | undefined;
  for (const name of ['upload-api', 'chunk-tracker'] as const) services.set(name, new ServiceProcess(name, await freePort(), env).start());
  try {
    await Promise.all([...services.values()].map((s) => s.ready()));
    const api = services.get('upload-api')!;
    const { apiKey } = (await fetch(`${api.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', quotaBytes: 64 * GiB }),
    }).then((r) => r.json())) as { apiKey: string };
    const { presigner, s3 } = testPresigner(storageEnv);
    const storage = new ObjectStorage(s3, storageEnv.S3_BUCKET);
    const bytes = randomBytes(GiB);

    // Both paths are timed to the same end: the whole object stored. Raw: CompleteMultipartUpload
    // returned. SDK: the file is `uploaded` (completed by chunk-tracker, confirmed by its S3 event).
    const viaSdk = async (checksums: boolean, data: Buffer = bytes) => {
      const client = new UploadClient({ baseUrl: api.url, token: apiKey, ownerId: 'bench' });
      const start = performance.now();
      const { id } = await client.upload(fromBytes(data), { filename: 'bench.bin', concurrency: CONCURRENCY, checksums }).done;
      const stored = await client.waitUntilStored(id, { timeoutMs: 120_000, intervalMs: 100 });
      const ms = performance.now() - start;
      if (stored.status !== 'uploaded') throw new Error(`bench upload ended ${stored.status}`);
      await fetch(`${api.url}/v1/files/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'bench' } });
      return ms;
    };

    // Warm-up of every path (the API's first requests compile queries and JIT its code), then
    // alternate measured runs so drift hits both alike. Memory is measured from after the warm-up.
    await rawUpload(storage, presigner, bytes.subarray(0, 64 * 1024 ** 2));
    await viaSdk(true, bytes.subarray(0, 64 * 1024 ** 2));
    const memory = async () => {
      const text = await (await fetch(`${api.url}/metrics`)).text();
      const pick = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0) / 1024 ** 2;
      return {
        heapTotal: pick(/^nodejs_heap_size_total_bytes\{[^}]*\} (\d+)/m),
        external: pick(/^nodejs_external_memory_bytes\{[^}]*\} (\d+)/m),
        newSpace: pick(/^nodejs_heap_space_size_total_bytes\{space="new"[^}]*\} (\d+)/m),
        oldSpace: pick(/^nodejs_heap_space_size_total_bytes\{space="old"[^}]*\} (\d+)/m),
      };
    };
    const memoryBefore = await memory();
    const pid = api.pid!;
    const rssBefore = residentBytes(pid);
    let rssPeak = rssBefore;
    sampler = setInterval(() => (rssPeak = Math.max(rssPeak, residentBytes(pid))), 50);
    const raw: number[] = [];
    const sdk: number[] = [];
    const sdkNoChecksums: number[] = [];
    for (let round_ = 0; round_ < 3; round_++) {
      raw.push(await rawUpload(storage, presigner, bytes));
      sdk.push(await viaSdk(true));
      sdkNoChecksums.push(await viaSdk(false));
    }
    s3.destroy();
    const memoryAfter = await memory();
    process.stdout.write(`upload-api memory (MiB) before ${JSON.stringify(memoryBefore)} after ${JSON.stringify(memoryAfter)}\n`);
    const best = (v: number[]) => Math.min(...v);
    const mbps = (ms: number) => GiB / 1024 ** 2 / (ms / 1000);
    return {
      rawMiBps: round(mbps(best(raw))),
      sdkMiBps: round(mbps(best(sdk))),
      sdkNoChecksumsMiBps: round(mbps(best(sdkNoChecksums))),
      sdkVsRawRatio: round(best(raw) / best(sdk)),
      sdkNoChecksumsVsRawRatio: round(best(raw) / best(sdkNoChecksums)),
      uploadApiRssBeforeMiB: round(rssBefore / 1024 ** 2),
      uploadApiRssGrowthMiB: round((rssPeak - rssBefore) / 1024 ** 2),
    };
  } catch (error) {
    for (const s of services.values()) process.stderr.write(`--- ${s.name}\n${s.output.slice(-20).join('\n')}\n`);
    throw error;
  } finally {
    clearInterval(sampler);
    await Promise.all([...services.values()].map((s) => s.stop()));
    await db.drop();
  }
}
