import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { LentBytes } from '@app/storage';

export interface ClamdOptions {
  host: string;
  port: number;
  /** No byte from clamd for this long (connecting, or waiting for the verdict): unavailable. */
  timeoutMs: number;
  /**
   * clamd's StreamMaxLength. A longer stream is stopped here (ScanTooLargeError): clamd's own
   * refusal closes the connection mid-stream, and its reply is then often lost to the reset.
   */
  streamMaxBytes?: number;
}

export type ScanVerdict = { infected: false } | { infected: true; signature: string };

/**
 * clamd gave no verdict: not listening, too slow, or an error of its own. The caller retries later;
 * a file is never let through on this (issue #15).
 */
export class ScannerUnavailableError extends Error {
  override readonly name = 'ScannerUnavailableError';
}

/** clamd refused the stream as longer than its StreamMaxLength. */
export class ScanTooLargeError extends Error {
  override readonly name = 'ScanTooLargeError';
}

/** Each INSTREAM chunk is at most this long (clamd reads a 4-byte length, then that many bytes). */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Bytes the socket may hold unsent before reading a stream waits. Far above the socket's own
 * 16 KiB mark: waiting at every chunk serialized storage reads and clamd's reading (the
 * benchmark measured 215 MiB/s against 409 MiB/s for the GET alone). A lent source needs no such
 * wait: its reader pauses while all its buffers are in the socket (ObjectStorage.readLent).
 */
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * A client of ClamAV's daemon over TCP (clamd(8), "INSTREAM"): the bytes are streamed from where
 * they are read (storage) to clamd in length-prefixed chunks, never written to a temporary file,
 * and clamd answers one line: `stream: OK`, `stream: <signature> FOUND`, or `... ERROR`.
 * docs/adr/0023-malware-scanning.md says why this is written here rather than taken from npm.
 */
export class ClamdClient {
  constructor(private readonly options: ClamdOptions) {}

  /** Whether clamd answers PING with PONG (for readiness). */
  async ping(): Promise<boolean> {
    try {
      const socket = await this.connect();
      try {
        const reply = readReply(socket);
        socket.write('zPING\0');
        return (await reply) === 'PONG';
      } finally {
        socket.destroy();
      }
    } catch {
      return false;
    }
  }

  /**
   * Scans `source` (consumed and closed): clean, or the signature clamd found. A lent source
   * (ObjectStorage.readLent) gets each buffer back once the socket has written it: the bytes go
   * from storage's connection to clamd's without being copied or allocated for in this process.
   */
  async scan(source: Readable | AsyncIterable<LentBytes>): Promise<ScanVerdict> {
    let socket: Socket;
    try {
      socket = await this.connect();
    } catch (error) {
      if (source instanceof Readable) source.destroy(); // a lent source opens only when read
      throw error;
    }
    try {
      const reply = readReply(socket);
      // clamd may answer (and close) before the stream ends: a size limit, an error.
      let answered = false;
      void reply.then(
        () => (answered = true),
        () => (answered = true),
      );
      socket.write('zINSTREAM\0');
      let sent = 0;
      for await (const { bytes, release } of source instanceof Readable ? lend(source) : source) {
        if (answered) {
          release();
          break;
        }
        sent += bytes.length;
        if (this.options.streamMaxBytes !== undefined && sent > this.options.streamMaxBytes) {
          release();
          throw new ScanTooLargeError(`the stream is longer than clamd takes (${this.options.streamMaxBytes} bytes)`);
        }
        writeChunks(socket, bytes, release);
        if (socket.writableLength > SOCKET_BUFFER_BYTES) await Promise.race([once(socket, 'drain'), reply]);
        if (answered) break;
      }
      if (!answered) socket.write(Buffer.alloc(4)); // a zero-length chunk ends the stream
      return verdict(await reply);
    } finally {
      if (source instanceof Readable) source.destroy();
      socket.destroy();
    }
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.options.host, port: this.options.port });
      socket.setTimeout(this.options.timeoutMs);
      const fail = (error: Error) => {
        socket.destroy();
        reject(new ScannerUnavailableError(`clamd at ${this.options.host}:${this.options.port}: ${error.message}`));
      };
      socket.once('error', fail);
      socket.once('timeout', () => fail(new Error(`no connection within ${this.options.timeoutMs} ms`)));
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.removeAllListeners('timeout');
        resolve(socket);
      });
    });
  }
}

/** A stream's chunks as lent bytes with nothing to give back (the stream allocated them). */
async function* lend(stream: Readable): AsyncGenerator<LentBytes> {
  for await (const chunk of stream) yield { bytes: chunk as Buffer, release: NOTHING_TO_RELEASE };
}
const NOTHING_TO_RELEASE = () => undefined;

/**
 * `bytes` as INSTREAM chunks (a 4-byte length, then the bytes), `release` called once the socket
 * has written the last of them (or failed to). Never a zero-length chunk: that ends the stream.
 */
function writeChunks(socket: Socket, bytes: Buffer, release: () => void): void {
  if (bytes.length === 0) return release();
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(chunk.length);
    socket.cork();
    socket.write(header);
    socket.write(chunk, offset + CHUNK_BYTES >= bytes.length ? () => release() : undefined);
    socket.uncork();
  }
}

/** clamd's reply to a `z` command: text up to its NUL (or the end of the connection). */
function readReply(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const done = () =>
      resolve(
        Buffer.concat(parts)
          .toString('utf8')
          .replace(/\0[\s\S]*$/, '')
          .trim(),
      );
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      if (data.includes(0)) done();
    });
    socket.once('end', done);
    socket.once('timeout', () => {
      socket.destroy();
      reject(new ScannerUnavailableError('clamd gave no verdict in time'));
    });
    socket.once('error', (error) => reject(new ScannerUnavailableError(`clamd connection failed: ${error.message}`)));
  });
}

/** The verdict in clamd's reply line. */
function verdict(reply: string): ScanVerdict {
  if (reply === 'stream: OK') return { infected: false };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { infected: true, signature: found[1] };
  if (/size limit exceeded/i.test(reply)) throw new ScanTooLargeError(reply);
  throw new ScannerUnavailableError(`clamd answered: ${reply || '(nothing)'}`);
}
