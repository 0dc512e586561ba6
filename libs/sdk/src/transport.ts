/**
 * How a part's bytes reach storage, with byte-level progress where the runtime allows it:
 *
 * - browsers: XMLHttpRequest, whose `upload` progress events count the bytes sent (fetch has no
 *   upload progress, and Chromium streams request bodies only over HTTP/2);
 * - Node (and runtimes that present `process.versions.node`): fetch with the body as a
 *   ReadableStream handed out in 64 KiB chunks (`duplex: 'half'`), counting each chunk as fetch
 *   pulls it. The stream is pulled only as the socket takes data, so the count runs ahead of
 *   storage by no more than what the network stack buffers;
 * - anywhere else: fetch with the whole part as the body (progress moves per part).
 *
 * This module imports nothing from Node: the package's browser entry reaches it.
 */

/** One PUT of bytes to a presigned URL. */
export interface StoragePutRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  signal: AbortSignal;
  /** Bytes of `body` sent so far by this attempt (cumulative, never above `body.byteLength`). */
  onBytesSent: (sent: number) => void;
}

/** Storage's answer; a network failure or an abort rejects instead (an abort with the signal's reason). */
export interface StoragePutAnswer {
  status: number;
  /** The ETag response header (storage's CORS rule must expose it to browsers). */
  etag: string | null;
}

export type StoragePut = (request: StoragePutRequest) => Promise<StoragePutAnswer>;

/**
 * The part of XMLHttpRequest this client uses: the browser's own fits it (`XMLHttpRequest` can be
 * passed as is); declared here so the package's types need no DOM library.
 */
export interface XhrLike {
  readonly status: number;
  readonly upload: { addEventListener(type: 'progress', listener: (event: { loaded: number }) => void): void };
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: Uint8Array<ArrayBuffer>): void;
  abort(): void;
  addEventListener(type: 'load' | 'error' | 'abort' | 'timeout', listener: () => void): void;
}

export type XhrConstructor = new () => XhrLike;

/** Streamed bodies are handed to fetch in chunks of this size; each chunk moves progress. */
export const STREAM_CHUNK_BYTES = 64 * 1024;

/** Headers a browser sets itself and refuses from scripts (`content-length` is signed, but computed from the body). */
const BROWSER_SET_HEADERS = new Set(['content-length', 'host', 'connection']);

/** PUTs through XMLHttpRequest, reporting its upload progress events. */
export function xhrPut(Xhr: XhrConstructor): StoragePut {
  return ({ url, headers, body, signal, onBytesSent }) =>
    new Promise<StoragePutAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const xhr = new Xhr();
      const onAbort = () => xhr.abort();
      const settle = (fn: () => void) => {
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      xhr.open('PUT', url);
      for (const [name, value] of Object.entries(headers)) if (!BROWSER_SET_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener('progress', (event) => onBytesSent(Math.min(event.loaded, body.byteLength)));
      xhr.addEventListener('load', () => settle(() => resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag') })));
      xhr.addEventListener('error', () => settle(() => reject(new TypeError(`network error on PUT ${redact(url)}`))));
      xhr.addEventListener('timeout', () => settle(() => reject(new TypeError(`timeout on PUT ${redact(url)}`))));
      xhr.addEventListener('abort', () => settle(() => reject((signal.reason as Error) ?? new DOMException('aborted', 'AbortError'))));
      signal.addEventListener('abort', onAbort, { once: true });
      xhr.send(body as Uint8Array<ArrayBuffer>);
    });
}

/**
 * PUTs through fetch. With `stream`, the body is a ReadableStream counted as fetch pulls it, sent
 * with an explicit Content-Length (S3 refuses a chunked PUT, and the length may be signed).
 */
export function fetchPut(fetchImpl: typeof fetch, stream: boolean): StoragePut {
  return async ({ url, headers, body, signal, onBytesSent }) => {
    const streamed = stream && body.byteLength > 0;
    const init: RequestInit & { duplex?: 'half' } = streamed
      ? { method: 'PUT', headers: { ...headers, 'content-length': String(body.byteLength) }, body: countingStream(body, onBytesSent), duplex: 'half', signal }
      : { method: 'PUT', headers, body: body as Uint8Array<ArrayBuffer>, signal };
    const response = await fetchImpl(url, init);
    // Read the (empty or small XML) answer so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status, etag: response.headers.get('etag') };
  };
}

/** The part's bytes as a stream pulled one chunk at a time (no read-ahead), counting what was pulled. */
export function countingStream(bytes: Uint8Array, onBytesSent: (sent: number) => void, chunkBytes = STREAM_CHUNK_BYTES): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const end = Math.min(bytes.byteLength, offset + chunkBytes);
        // A view, not a copy: fetch writes it to the socket and does not keep or transfer it.
        controller.enqueue(bytes.subarray(offset, end));
        offset = end;
        onBytesSent(offset);
        if (offset >= bytes.byteLength) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Whether this runtime's fetch sends a ReadableStream body (the `duplex` member is read and the
 * stream is not turned into a string): Node >= 18, Deno, Chromium >= 105 (over HTTP/2 only).
 */
export function supportsRequestStreams(): boolean {
  try {
    let duplexRead = false;
    const init = {
      method: 'PUT',
      body: new ReadableStream(),
      get duplex() {
        duplexRead = true;
        return 'half';
      },
    };
    const hasContentType = new Request('http://localhost/', init).headers.has('content-type');
    return duplexRead && !hasContentType;
  } catch {
    return false;
  }
}

/** Node-like runtimes, where fetch streams request bodies over HTTP/1.1 (unlike browsers). */
function isNodeLike(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/**
 * The transport for storage PUTs: XMLHttpRequest when one is given or (with no injected fetch)
 * the runtime has one; otherwise the fetch in use, streaming in Node-like runtimes.
 */
export function storagePut(options: { fetch: typeof fetch; injectedFetch: boolean; XMLHttpRequest?: XhrConstructor }): StoragePut {
  const globalXhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
  const Xhr = options.XMLHttpRequest ?? (options.injectedFetch ? undefined : globalXhr);
  if (Xhr) return xhrPut(Xhr);
  return fetchPut(options.fetch, isNodeLike() && supportsRequestStreams());
}

/** A presigned URL without its signature, for error messages. */
function redact(url: string): string {
  return url.split('?')[0];
}
