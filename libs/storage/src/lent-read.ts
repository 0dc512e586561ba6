import { connect as connectTcp, type TcpNetConnectOpts } from 'node:net';
import { connect as connectTls } from 'node:tls';

/**
 * A GET of a presigned URL whose body is read into a fixed set of buffers lent to the consumer
 * (ObjectStorage.readLent, for the malware scan), so that hundreds of MiB/s from storage cost no
 * allocation per socket read. Node's documented `onread` socket option does the reading; the
 * HTTP/1.1 it speaks is the least a plain GET needs (a status line, headers, a Content-Length
 * body, one request per connection), which is all S3 and S3-compatible stores answer a GET with.
 * Why not the SDK's stream or another client: docs/adr/0023-malware-scanning.md (throughput).
 */

/** Bytes `readLent` lends: valid until `release()`, which gives their buffer back to the read. */
export interface LentBytes {
  readonly bytes: Buffer;
  readonly release: () => void;
}

/**
 * readLent's buffers. Together (4 MiB) they bound what one read holds, whatever the object's
 * size; one socket read fills at most one (what the kernel has, up to 256 KiB).
 */
const LENT_BUFFERS = 16;
const LENT_BUFFER_BYTES = 256 * 1024;
/** The presigned URL is used at once; this only has to outlast connecting. */
export const LENT_URL_EXPIRES_SECONDS = 60;
/** No byte from storage for this long while reading (not while the consumer holds every buffer): failed. */
const LENT_IDLE_TIMEOUT_MS = 60_000;
/** A response head longer than this is not storage's. */
const MAX_HEAD_BYTES = 64 * 1024;

/** An error that fromStorageError sorts as the SDK's own of that name and status would be. */
const storageFailure = (message: string, name: string, extra: { status?: number; transient?: boolean } = {}) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: extra.status }, $fault: extra.transient ? 'server' : 'client' });

/**
 * The body of a GET of `signedUrl`, lent buffer by buffer (ObjectStorage.readLent). The socket reads
 * into buffers it asks for one at a time (net's `onread`), so no read allocates; a buffer comes
 * back to `free` when its bytes are released.
 */
export async function* lentBody(signedUrl: string): AsyncGenerator<LentBytes> {
  const url = new URL(signedUrl);
  // The request target as signed: URL's parsing would resolve a key's `..` segments.
  const target = signedUrl.slice(signedUrl.indexOf('/', signedUrl.indexOf('://') + 3));
  const free: Buffer[] = Array.from({ length: LENT_BUFFERS }, () => Buffer.allocUnsafe(LENT_BUFFER_BYTES));
  const lent: LentBytes[] = []; // read, not yet taken by the consumer
  let head: Buffer | null = Buffer.alloc(0); // the response head so far; null once it is whole
  let remaining = -1; // body bytes still to come, once the head is read
  let failure = null as Error | null; // set by the socket's callbacks
  let paused = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const fail = (error: Error) => {
    if (remaining !== 0) failure ??= error;
    notify();
  };
  let filling = free[0]; // the buffer the socket's next read goes into

  const release = (buffer: Buffer) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      free.push(buffer);
      if (paused && !socket.destroyed) {
        paused = false;
        socket.setTimeout(LENT_IDLE_TIMEOUT_MS);
        socket.resume();
      }
    };
  };

  /** One socket read of `n` bytes into `filling`. false stops reading (done, failed, or every buffer lent). */
  const onRead = (n: number): boolean => {
    const buffer = filling;
    let start = 0;
    if (head) {
      head = Buffer.concat([head, buffer.subarray(0, n)]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        free.push(buffer);
        if (head.length <= MAX_HEAD_BYTES) return true;
        fail(storageFailure(`storage sent more than ${MAX_HEAD_BYTES} bytes without ending its answer's head`, 'BadResponse'));
        return false;
      }
      try {
        remaining = bodyLength(head.subarray(0, end + 2).toString('latin1'), head.subarray(end + 4));
      } catch (error) {
        free.push(buffer);
        fail(error as Error);
        return false;
      }
      start = n - (head.length - (end + 4));
      head = null;
    }
    const length = Math.min(n - start, remaining);
    remaining -= length;
    if (length > 0) lent.push({ bytes: buffer.subarray(start, start + length), release: release(buffer) });
    else free.push(buffer);
    notify();
    if (remaining === 0) return false;
    if (free.length > 1) return true;
    // The last free buffer becomes `filling`, and nothing is read into it until a release.
    paused = true;
    socket.setTimeout(0);
    return false;
  };

  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const https = url.protocol === 'https:';
  const options: TcpNetConnectOpts = {
    host,
    port: Number(url.port) || (https ? 443 : 80),
    onread: { buffer: () => (filling = free.pop()!), callback: onRead },
  };
  const socket = https ? connectTls(options) : connectTcp(options);
  socket.setTimeout(LENT_IDLE_TIMEOUT_MS);
  socket.on('timeout', () => socket.destroy(storageFailure(`no byte from storage in ${LENT_IDLE_TIMEOUT_MS} ms`, 'TimeoutError')));
  socket.on('error', fail);
  socket.on('close', () =>
    fail(
      storageFailure(`storage closed the connection ${head ? 'before answering' : `${remaining} bytes before the end`}`, 'IncompleteBody', { transient: true }),
    ),
  );
  socket.write(`GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
  try {
    for (;;) {
      const next = lent.shift();
      if (next) yield next;
      else if (failure) throw failure;
      else if (remaining === 0) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    socket.destroy();
  }
}

/** The body's length from a response head (status line and headers); any answer but 200 as the S3 error it carries. */
function bodyLength(head: string, bodyStart: Buffer): number {
  const status = Number(/^HTTP\/1\.[01] (\d{3})\b/.exec(head)?.[1]);
  if (status !== 200) {
    const code = /<Code>([^<]+)<\/Code>/.exec(bodyStart.toString('utf8'))?.[1];
    throw storageFailure(`storage answered ${status || 'something other than HTTP'}`, code ?? `HTTP${status || ''}`, { status: status || undefined });
  }
  const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(head)?.[1];
  // S3 sends every GetObject body with its length; without one, the end could not be told from a cut.
  if (length === undefined || /\r\ntransfer-encoding:/i.test(head)) throw storageFailure('storage answered without a Content-Length', 'BadResponse');
  return Number(length);
}
