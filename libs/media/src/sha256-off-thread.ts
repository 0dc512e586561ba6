import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a worker thread, so that hashing overlaps with reading instead of following it:
 * verification costs about max(read, hash) rather than read + hash.
 *
 * `take` hands a chunk over: a chunk that owns its whole ArrayBuffer (every socket read does) is
 * transferred to the worker, not copied, and is unusable afterwards; any other chunk is copied.
 * Chunks are sent in batches of at least BATCH_BYTES (one message per MiB, not per 64 KiB read:
 * messages cost more than the bytes), and at most MAX_IN_FLIGHT bytes wait for the worker, so a
 * slow hash slows the reader down instead of growing memory. One worker serves every session in
 * the process: started on first use, keeping the process alive only while a session is open, and
 * restarted if it dies (its sessions fail and their jobs retry).
 */
const BATCH_BYTES = 1 << 20;
const MAX_IN_FLIGHT = 8 * BATCH_BYTES;

/** CommonJS source run by the worker: sessions keyed by id, each a node:crypto Hash. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  let hash = sessions.get(m.id);
  if (!hash) sessions.set(m.id, (hash = createHash('sha256')));
  if (m.op === 'update') {
    let bytes = 0;
    for (const buffer of m.buffers) {
      hash.update(new Uint8Array(buffer));
      bytes += buffer.byteLength;
    }
    parentPort.postMessage({ id: m.id, op: 'ack', bytes });
  } else {
    sessions.delete(m.id);
    parentPort.postMessage({ id: m.id, op: 'digest', hex: hash.digest('hex') });
  }
});`;

interface Session {
  onAck(bytes: number): void;
  onDigest(hex: string): void;
  onError(error: Error): void;
}

let worker: Worker | null = null;
let nextId = 1;
const sessions = new Map<number, Session>();

function open(id: number, session: Session): void {
  sessions.set(id, session);
  if (sessions.size === 1) worker?.ref();
}

function close(id: number): void {
  // unref after any listener was attached: attaching a 'message' listener refs the port again.
  if (sessions.delete(id) && sessions.size === 0) worker?.unref();
}

function hashWorker(): Worker {
  if (worker) return worker;
  const started = new Worker(WORKER_SOURCE, { eval: true });
  started.on('message', (m: { id: number; op: 'ack' | 'digest'; bytes: number; hex: string }) => {
    const session = sessions.get(m.id);
    if (m.op === 'ack') session?.onAck(m.bytes);
    else session?.onDigest(m.hex);
  });
  const fail = (error: Error) => {
    if (worker === started) worker = null;
    for (const [id, session] of sessions) {
      session.onError(error);
      close(id);
    }
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`the hashing worker exited with code ${code}`)));
  worker = started;
  return started;
}

export class OffThreadSha256 {
  private readonly id = nextId++;
  private readonly worker = hashWorker();
  private batch: ArrayBuffer[] = [];
  private batchBytes = 0;
  private inFlight = 0;
  private failure: Error | null = null;
  private waiting: { resolve(): void; reject(error: Error): void } | null = null;
  private digested: { resolve(hex: string): void; reject(error: Error): void } | null = null;

  constructor() {
    open(this.id, {
      onAck: (bytes) => {
        this.inFlight -= bytes;
        if (this.waiting && this.inFlight < MAX_IN_FLIGHT) this.settle(null);
      },
      onDigest: (hex) => {
        close(this.id);
        this.digested?.resolve(hex);
      },
      onError: (error) => {
        this.failure = error;
        this.settle(error);
        this.digested?.reject(error);
      },
    });
  }

  /**
   * Adds a chunk, taking it over (see above: do not use it afterwards). Resolves at once unless
   * too much is waiting for the worker.
   */
  async take(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    this.batch.push(owned ? chunk.buffer : new Uint8Array(chunk).buffer); // Buffer#slice would share memory
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** The hex digest of everything taken. The session is finished afterwards. */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.batchBytes > 0) this.flush();
    return new Promise<string>((resolve, reject) => {
      this.digested = { resolve, reject };
      this.worker.postMessage({ id: this.id, op: 'digest' });
    });
  }

  /** Forgets the session (a read that failed half-way); the worker drops it with its next message. */
  dispose(): void {
    if (!sessions.has(this.id)) return;
    close(this.id);
    this.worker.postMessage({ id: this.id, op: 'digest' });
  }

  private flush(): void {
    this.inFlight += this.batchBytes;
    this.worker.postMessage({ id: this.id, op: 'update', buffers: this.batch }, this.batch);
    this.batch = [];
    this.batchBytes = 0;
  }

  private settle(error: Error | null): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (error) waiting?.reject(error);
    else waiting?.resolve();
  }
}
