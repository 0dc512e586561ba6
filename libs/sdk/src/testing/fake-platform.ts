// Test support for the SDK's unit specs (not part of the package: no entry imports it).
import { ClientOptions } from '../api';
import { UploadClient } from '../client';

export const MiB = 1024 ** 2;

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A JSON body, parsed. */
  body?: unknown;
  /** The body as sent (a storage PUT's ReadableStream or bytes). */
  rawBody?: unknown;
  duplex?: string;
  signal?: AbortSignal;
}

/**
 * A scripted API + storage: the API plans parts of `partSize`, signs URLs (s3://part/N), and
 * storage answers PUTs through `onPut` (which may fail, hang or succeed).
 */
export function fakePlatform(opts: {
  size: number;
  partSize: number;
  onPut?: (n: number, attempt: number, call: Call) => Response | Promise<Response>;
  stored?: number[];
  /** Headers every part URL is signed with (none by default). */
  partHeaders?: Record<string, string>;
  client?: Partial<ClientOptions>;
}) {
  const calls: Call[] = [];
  const attempts = new Map<number, number>();
  const partCount = Math.ceil(opts.size / opts.partSize);
  let inFlight = 0;
  let maxInFlight = 0;
  let signCount = 0;
  let aborted = false;
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const urlFor = (n: number, expiresIn = 900_000) => ({
    partNumber: n,
    url: `https://storage.test/part/${n}?sig=${signCount}`,
    headers: { ...opts.partHeaders },
    expiresAt: new Date(Date.now() + expiresIn).toISOString(),
  });
  const fetchImpl = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = input instanceof Request ? input.url : input.toString();
    const call: Call = {
      method: init.method ?? 'GET',
      url,
      headers: (init.headers ?? {}) as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      rawBody: init.body,
      duplex: (init as { duplex?: string }).duplex,
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    if (url.startsWith('https://storage.test/part/')) {
      const n = Number(/part\/(\d+)/.exec(url)![1]);
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (init.signal?.aborted) throw init.signal.reason;
        const res = await Promise.race([
          Promise.resolve(opts.onPut?.(n, attempt, call) ?? new Response(null, { status: 200, headers: { etag: `"etag-${n}"` } })),
          new Promise<never>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error))),
        ]);
        return res;
      } finally {
        inFlight--;
      }
    }
    if (url.endsWith('/v1/uploads') && call.method === 'POST') {
      return json(
        {
          id: 'u1',
          status: 'pending',
          mode: 'multipart',
          size: opts.size,
          partSize: opts.partSize,
          partCount,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          parts: [],
        },
        201,
      );
    }
    if (url.endsWith('/v1/uploads/u1/parts')) {
      signCount++;
      return json({ parts: (call.body as { partNumbers: number[] }).partNumbers.map((n) => urlFor(n)) });
    }
    if (/\/v1\/uploads\/u1(\?parts=ledger)?$/.test(url) && call.method === 'GET') {
      return json({
        id: 'u1',
        status: 'uploading',
        mode: 'multipart',
        filename: 'f',
        size: opts.size,
        contentType: 'a/b',
        partSize: opts.partSize,
        partCount,
        checksum: 'sha256',
        uploadedParts: (opts.stored ?? []).map((n) => ({
          partNumber: n,
          size: n < partCount ? opts.partSize : opts.size - opts.partSize * (partCount - 1),
          etag: `etag-${n}`,
        })),
        bytesUploaded: 0,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdAt: new Date().toISOString(),
      });
    }
    if (url.endsWith('/v1/uploads/u1/complete')) return json({ id: 'u1', status: 'completing' }, 202);
    if (url.endsWith('/v1/uploads/u1') && call.method === 'DELETE') {
      aborted = true;
      return new Response(null, { status: 204 });
    }
    return json({ code: 'not_found' }, 404);
  }) as typeof fetch;
  return {
    client: new UploadClient({
      baseUrl: 'https://api.test',
      token: 't',
      fetch: fetchImpl,
      retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
      ...opts.client,
    }),
    calls,
    attempts,
    stats: () => ({ maxInFlight, signCount, aborted }),
    puts: () => calls.filter((c) => c.url.startsWith('https://storage.test/')),
  };
}

/** `n` bytes of a repeating pattern. */
export const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

/**
 * Reads a streamed PUT body the way a slow network would: one chunk per `delayMs`, calling
 * `onChunk` with the bytes read so far; stops (as a dropped connection) after `stopAfter` bytes.
 */
export async function readBody(body: unknown, opts: { delayMs?: number; stopAfter?: number; onChunk?: (read: number) => void } = {}): Promise<Uint8Array> {
  if (!(body instanceof ReadableStream)) throw new Error(`expected a streamed body, got ${Object.prototype.toString.call(body)}`);
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (;;) {
    if (opts.stopAfter !== undefined && read >= opts.stopAfter) {
      await reader.cancel();
      break;
    }
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.slice());
    read += value.byteLength;
    opts.onChunk?.(read);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
  }
  const all = new Uint8Array(read);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return all;
}
