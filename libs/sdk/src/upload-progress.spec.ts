import { UploadClient } from './client';
import { UploadProgress } from './progress';
import { fromBytes } from './sources';
import { bytes, Call, fakePlatform, MiB, readBody } from './testing/fake-platform';
import { STREAM_CHUNK_BYTES } from './transport';

const ok = (n: number) => new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } });

/** Values only ever grow. */
const monotonic = (values: number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]);

describe('byte-level progress through a streamed body (Node, injected fetch)', () => {
  it('moves while parts are in flight, in chunks, and ends exactly at totalBytes with every part', async () => {
    const size = 2 * MiB + 5;
    const source = bytes(size);
    const received = new Map<number, Uint8Array>();
    const puts: Call[] = [];
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, _attempt, call) => {
        puts.push(call);
        received.set(n, await readBody(call.rawBody, { delayMs: 1 }));
        return ok(n);
      },
    });
    const events: UploadProgress[] = [];
    const upload = platform.client.upload(fromBytes(source), { filename: 'f', concurrency: 2, progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    await expect(upload.done).resolves.toEqual({ id: 'u1', status: 'completing' });

    // The bytes went out as a stream with an explicit length (S3 refuses chunked PUTs), unaltered.
    for (const call of puts) {
      expect(call.duplex).toBe('half');
      expect(call.headers['content-length']).toBe(String(received.get(Number(/part\/(\d+)/.exec(call.url)![1]))!.byteLength));
    }
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
    expect(same(received.get(1)!, source.subarray(0, MiB))).toBe(true);
    expect(same(received.get(2)!, source.subarray(MiB, 2 * MiB))).toBe(true);
    expect(same(received.get(3)!, source.subarray(2 * MiB))).toBe(true);

    const values = events.map((e) => e.bytesUploaded);
    expect(monotonic(values)).toBe(true);
    expect(events.length).toBeGreaterThan(3 * 4); // many events per part, not one
    expect(values.some((v) => v % MiB !== 0 && v !== size)).toBe(true); // values inside a part
    expect(values.every((v) => v <= size)).toBe(true);
    expect(events.at(-1)).toEqual({ bytesUploaded: size, totalBytes: size, partsDone: 3, partCount: 3 });
    // Each step is at most a chunk per part in flight.
    expect(Math.max(...values.slice(1).map((v, i) => v - values[i]))).toBeLessThanOrEqual(2 * STREAM_CHUNK_BYTES);
  });

  it('is throttled: at most one event per interval (100 ms by default), plus the final one', async () => {
    const size = 4 * MiB;
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, _attempt, call) => {
        await readBody(call.rawBody, { delayMs: 8 }); // 16 chunks a part: about 130 ms a part
        return ok(n);
      },
    });
    const events: Array<{ at: number; bytes: number }> = [];
    const started = Date.now();
    const upload = platform.client.upload(fromBytes(bytes(size)), {
      filename: 'f',
      concurrency: 2,
      onProgress: (p) => events.push({ at: Date.now(), bytes: p.bytesUploaded }),
    });
    await upload.done;
    const elapsed = Date.now() - started;
    const gaps = events.slice(1, -1).map((e, i) => e.at - events[i].at);
    expect(gaps.every((g) => g >= 95)).toBe(true); // timers may fire a hair early on a coarse clock
    expect(events.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(events.length).toBeGreaterThan(2); // yet it did move in between
    expect(events.at(-1)!.bytes).toBe(size);
  });

  it("subtracts a failed attempt's bytes: the value holds during the retry and counts the part once", async () => {
    const size = MiB;
    let retryRead = 0;
    let eventsBeforeFailure = -1;
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, attempt, call) => {
        if (attempt === 1) {
          // The connection drops after half the part.
          await readBody(call.rawBody, { stopAfter: MiB / 2 });
          eventsBeforeFailure = events.length;
          throw new TypeError('fetch failed: other side closed');
        }
        await readBody(call.rawBody, { delayMs: 1, onChunk: (read) => (retryRead = read) });
        return ok(n);
      },
    });
    const events: Array<{ bytes: number; retryRead: number }> = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), {
      filename: 'f',
      progressIntervalMs: 0,
      onProgress: (p) => events.push({ bytes: p.bytesUploaded, retryRead }),
    });
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    expect(platform.attempts.get(1)).toBe(2);
    const values = events.map((e) => e.bytes);
    expect(monotonic(values)).toBe(true);
    expect(events[eventsBeforeFailure - 1].bytes).toBe(MiB / 2); // the first attempt's count was shown...
    // ...and the retry counted only its own bytes (an event comes as a chunk is pulled, just before
    // the reader sees it): nothing was shown until it had passed the first attempt's count.
    const afterFailure = events.slice(eventsBeforeFailure, -1);
    expect(afterFailure.length).toBeGreaterThan(1);
    expect(afterFailure[0].retryRead).toBeGreaterThanOrEqual(MiB / 2);
    for (const e of afterFailure) expect(e.bytes).toBe(Math.min(size - 1, e.retryRead + STREAM_CHUNK_BYTES));
    expect(values.at(-1)).toBe(size);
  });

  it('never shows more than was sent: a failed attempt stops counting while other parts go on', async () => {
    const size = 2 * MiB;
    // Bytes read by each part's current attempt; part 2 starts once part 1's first attempt failed,
    // and part 1's retry waits until part 2 is done.
    const read = new Map<number, number>([
      [1, 0],
      [2, 0],
    ]);
    let failed!: () => void;
    const part1Failed = new Promise<void>((r) => (failed = r));
    let part2Done!: () => void;
    const part2Read = new Promise<void>((r) => (part2Done = r));
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, attempt, call) => {
        if (n === 1 && attempt === 1) {
          await readBody(call.rawBody, { stopAfter: MiB / 2, onChunk: (r) => read.set(1, r) });
          read.set(1, 0);
          failed();
          throw new TypeError('fetch failed: other side closed');
        }
        await (n === 2 ? part1Failed : part2Read);
        await new Promise((r) => setTimeout(r, 10)); // the SDK has taken in the failure
        await readBody(call.rawBody, { delayMs: 1, onChunk: (r) => read.set(n, r) });
        if (n === 2) part2Done();
        return ok(n);
      },
    });
    const events: Array<{ bytes: number; sent: number; partsDone: number }> = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), {
      filename: 'f',
      concurrency: 2,
      progressIntervalMs: 0,
      onProgress: (p) => events.push({ bytes: p.bytesUploaded, sent: p.partsDone === 2 ? size : read.get(1)! + read.get(2)!, partsDone: p.partsDone }),
    });
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    // Whenever the value grew, it grew to what the live attempts had sent (an event comes as a chunk
    // is pulled, just before the reader counts it): the failed attempt's half part was not kept.
    const grew = events.filter((e, i) => i > 0 && e.bytes > events[i - 1].bytes && e.partsDone === 0);
    expect(grew.length).toBeGreaterThan(10);
    for (const e of grew) expect(e.bytes).toBeLessThanOrEqual(e.sent + STREAM_CHUNK_BYTES);
    expect(events.at(-1)!.bytes).toBe(size);
  });

  it('ignores what an answered attempt still reads of its body (storage refused it early)', async () => {
    const size = MiB;
    let liveRead = 0;
    let refusedAt = -1;
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, attempt, call) => {
        if (attempt === 1) {
          // 503 after two chunks; the connection keeps taking the body afterwards.
          const stream = call.rawBody as ReadableStream<Uint8Array>;
          const reader = stream.getReader();
          await reader.read();
          await reader.read();
          reader.releaseLock();
          void readBody(stream, { delayMs: 1 });
          refusedAt = events.length;
          return new Response('slow down', { status: 503 });
        }
        await new Promise((r) => setTimeout(r, 40)); // the old body is read meanwhile
        await readBody(call.rawBody, { delayMs: 1, onChunk: (r) => (liveRead = r) });
        return ok(n);
      },
    });
    const events: Array<{ bytes: number; liveRead: number }> = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), {
      filename: 'f',
      progressIntervalMs: 0,
      onProgress: (p) => events.push({ bytes: p.bytesUploaded, liveRead }),
    });
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    const grewLater = events.slice(refusedAt).filter((e, i, all) => i > 0 && e.bytes > all[i - 1].bytes && e.bytes < size);
    expect(grewLater.length).toBeGreaterThan(5);
    for (const e of grewLater) expect(e.bytes).toBeLessThanOrEqual(e.liveRead + STREAM_CHUNK_BYTES);
  });

  it('holds its value over a pause that cancels a part mid-flight, and ends at totalBytes after resume', async () => {
    const size = MiB;
    let paused!: () => void;
    const reachedHalf = new Promise<void>((r) => (paused = r));
    const platform = fakePlatform({
      size,
      partSize: MiB,
      onPut: async (n, attempt, call) => {
        await readBody(call.rawBody, {
          delayMs: 1,
          onChunk: (read) => {
            if (attempt === 1 && read >= MiB / 2) paused();
          },
          ...(attempt === 1 ? { stopAfter: (3 * MiB) / 4 } : {}),
        });
        if (attempt === 1) return new Promise<Response>(() => undefined); // answered only by the pause
        return ok(n);
      },
    });
    const values: number[] = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), { filename: 'f', progressIntervalMs: 0, onProgress: (p) => values.push(p.bytesUploaded) });
    await reachedHalf;
    upload.pause();
    await new Promise((r) => setTimeout(r, 30));
    const atPause = values.at(-1)!;
    expect(atPause).toBeGreaterThanOrEqual(MiB / 2);
    expect(atPause).toBeLessThan(size);
    upload.resume();
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    expect(platform.attempts.get(1)).toBe(2);
    expect(monotonic(values)).toBe(true);
    expect(values.at(-1)).toBe(size);
  });

  it('reports the whole size at once for an instant (deduplicated) upload', async () => {
    const events: UploadProgress[] = [];
    const fetchImpl = (async () =>
      new Response(JSON.stringify({ id: 'u9', status: 'ready', deduplicated: true, mode: 'single', size: 10 }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })) as typeof fetch;
    const client = new UploadClient({ baseUrl: 'https://api.test', token: 't', fetch: fetchImpl });
    await expect(client.upload(fromBytes(bytes(10)), { filename: 'f', onProgress: (p) => events.push(p) }).done).resolves.toEqual({
      id: 'u9',
      status: 'ready',
    });
    expect(events).toEqual([{ bytesUploaded: 10, totalBytes: 10, partsDone: 0, partCount: 0 }]);
  });
});
