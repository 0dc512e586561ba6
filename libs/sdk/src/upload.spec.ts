import { UploadClient } from './client';
import { backoffDelay } from './retry';
import { signBatchSize } from './upload';
import { fromBytes } from './sources';
import { bytes, fakePlatform, MiB } from './testing/fake-platform';

describe('SDK uploads', () => {
  it('sends every part once with its SHA-256, at most `concurrency` at a time, then completes with the ETags', async () => {
    const platform = fakePlatform({
      size: 10 * MiB + 3,
      partSize: MiB,
      onPut: async (n) => {
        await new Promise((r) => setTimeout(r, 2));
        return new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } });
      },
    });
    const progress: number[] = [];
    const upload = platform.client.upload(fromBytes(bytes(10 * MiB + 3)), {
      filename: 'f.bin',
      concurrency: 3,
      onProgress: (p) => progress.push(p.bytesUploaded),
    });
    await expect(upload.done).resolves.toEqual({ id: 'u1', status: 'completing' });
    expect(
      platform
        .puts()
        .map((c) => Number(/part\/(\d+)/.exec(c.url)![1]))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(platform.stats().maxInFlight).toBe(3);
    const complete = platform.calls.find((c) => c.url.endsWith('/complete'))!;
    expect((complete.body as { parts: Array<{ etag: string }> }).parts.map((p) => p.etag)).toEqual(Array.from({ length: 11 }, (_, i) => `etag-${i + 1}`));
    const sign = platform.calls.find((c) => c.url.endsWith('/parts'))!;
    expect(Object.values((sign.body as { checksums: Record<string, string> }).checksums)[0]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(progress[progress.length - 1]).toBe(10 * MiB + 3);
    // Parts requested in the same tick share one signing call.
    expect(platform.stats().signCount).toBeLessThan(11);
  });

  it('retries failed PUTs (network errors, 500, 503) with backoff, and re-signs after a 403', async () => {
    const platform = fakePlatform({
      size: 3 * MiB,
      partSize: MiB,
      onPut: (n, attempt) => {
        if (n === 1 && attempt === 1) throw new TypeError('fetch failed');
        if (n === 2 && attempt <= 2) return new Response('slow down', { status: attempt === 1 ? 500 : 503 });
        if (n === 3 && attempt === 1) return new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 });
        return new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } });
      },
    });
    await expect(platform.client.upload(fromBytes(bytes(3 * MiB)), { filename: 'f' }).done).resolves.toMatchObject({ status: 'completing' });
    expect(platform.attempts.get(1)).toBe(2);
    expect(platform.attempts.get(2)).toBe(3);
    expect(platform.attempts.get(3)).toBe(2);
    const part3 = platform.puts().filter((c) => c.url.includes('/part/3'));
    expect(part3[0].url).not.toBe(part3[1].url); // a fresh signature after the 403
  });

  it('gives up after the retry budget with an error naming the part', async () => {
    const platform = fakePlatform({ size: MiB, partSize: MiB, onPut: () => new Response('down', { status: 500 }) });
    await expect(platform.client.upload(fromBytes(bytes(MiB)), { filename: 'f' }).done).rejects.toThrow(/part 1 failed after 4 attempt/);
  });

  it('takes a 412 on a retried single PUT (its URL is single-use) as the object already stored', async () => {
    let puts = 0;
    const fetchImpl = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = input instanceof Request ? input.url : input.toString();
      if (url === 'https://storage.test/object') {
        puts++;
        // The first PUT stores the object but its answer is lost; the retry meets the stored object.
        if (puts === 1) throw new TypeError('fetch failed');
        return new Response('<Error><Code>PreconditionFailed</Code></Error>', { status: 412 });
      }
      if (url.endsWith('/v1/uploads') && init.method === 'POST') {
        const upload = { method: 'PUT', url: 'https://storage.test/object', headers: { 'if-none-match': '*' } };
        return new Response(
          JSON.stringify({ id: 'u1', status: 'pending', mode: 'single', size: 10, expiresAt: new Date(Date.now() + 900_000).toISOString(), upload }),
          {
            status: 201,
            headers: { 'content-type': 'application/json' },
          },
        );
      }
      return new Response(JSON.stringify({ code: 'not_found' }), { status: 404 });
    }) as typeof fetch;
    const client = new UploadClient({ baseUrl: 'https://api.test', token: 't', fetch: fetchImpl, retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 } });
    await expect(client.upload(fromBytes(bytes(10)), { filename: 'f' }).done).resolves.toEqual({ id: 'u1', status: 'pending' });
    expect(puts).toBe(2);
  });

  it('does not retry a refusal that will not change (400)', async () => {
    const platform = fakePlatform({ size: MiB, partSize: MiB, onPut: () => new Response('bad digest', { status: 400 }) });
    await expect(platform.client.upload(fromBytes(bytes(MiB)), { filename: 'f' }).done).rejects.toThrow(/HTTP 400/);
    expect(platform.attempts.get(1)).toBe(1);
  });

  it('pauses (cancelling parts in flight), resumes, and finishes with every part', async () => {
    let gate!: () => void;
    const held = new Promise<void>((r) => (gate = r));
    const platform = fakePlatform({
      size: 4 * MiB,
      partSize: MiB,
      onPut: async (n, attempt) => {
        if (attempt === 1) await held;
        return new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } });
      },
    });
    const upload = platform.client.upload(fromBytes(bytes(4 * MiB)), { filename: 'f', concurrency: 2 });
    await new Promise((r) => setTimeout(r, 50));
    upload.pause();
    gate();
    await new Promise((r) => setTimeout(r, 50));
    const whilePaused = platform.puts().length;
    await new Promise((r) => setTimeout(r, 50));
    expect(platform.puts().length).toBe(whilePaused); // nothing sent while paused
    upload.resume();
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    const complete = platform.calls.find((c) => c.url.endsWith('/complete'))!;
    expect((complete.body as { parts: unknown[] }).parts).toHaveLength(4);
  });

  it('abort cancels the upload and tells the API (quota released server-side)', async () => {
    const platform = fakePlatform({ size: 4 * MiB, partSize: MiB, onPut: () => new Promise(() => undefined) });
    const upload = platform.client.upload(fromBytes(bytes(4 * MiB)), { filename: 'f' });
    await new Promise((r) => setTimeout(r, 50));
    await upload.abort();
    await expect(upload.done).rejects.toThrow(/aborted/);
    expect(platform.stats().aborted).toBe(true);
  });

  it('resumes an upload by id and sends only the parts storage lacks', async () => {
    const platform = fakePlatform({ size: 5 * MiB, partSize: MiB, stored: [1, 2, 4] });
    await expect(platform.client.resume('u1', fromBytes(bytes(5 * MiB))).done).resolves.toMatchObject({ status: 'completing' });
    expect(
      platform
        .puts()
        .map((c) => Number(/part\/(\d+)/.exec(c.url)![1]))
        .sort(),
    ).toEqual([3, 5]);
    const complete = platform.calls.find((c) => c.url.endsWith('/complete'))!;
    expect((complete.body as { parts: Array<{ partNumber: number }> }).parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('signing part URLs ahead', () => {
  it('sizes a signing call by the part count: a tenth of the parts, at least one per worker, at most 1,000', () => {
    expect(signBatchSize(5, 4)).toBe(4);
    expect(signBatchSize(128, 4)).toBe(13);
    expect(signBatchSize(2_000, 4)).toBe(200);
    expect(signBatchSize(10_000, 4)).toBe(1000);
    expect(signBatchSize(10_000, 8)).toBe(1000);
  });

  it('signs the URLs of an upload without checksums in about ten calls, whatever its part count', async () => {
    const platform = fakePlatform({ size: 200 * 1024, partSize: 1024 });
    const upload = platform.client.upload(fromBytes(bytes(200 * 1024)), { filename: 'f.bin', checksums: false, concurrency: 4 });
    await expect(upload.done).resolves.toEqual({ id: 'u1', status: 'completing' });
    const signed = platform.calls.filter((c) => c.url.endsWith('/parts')).flatMap((c) => (c.body as { partNumbers: number[] }).partNumbers);
    expect(platform.stats().signCount).toBeLessThanOrEqual(11);
    expect(signed.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1)); // each part signed once
    expect(platform.puts()).toHaveLength(200);
  });

  it('polls the upload from the ledger while waiting for storage (no ListParts per poll)', async () => {
    const platform = fakePlatform({ size: 3 * MiB, partSize: MiB });
    platform.calls.length = 0;
    await expect(platform.client.waitUntilStored('u1', { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(/still uploading/);
    expect(platform.calls.length).toBeGreaterThan(0);
    expect(platform.calls.every((c) => c.url === 'https://api.test/v1/uploads/u1?parts=ledger')).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelay(8, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});
