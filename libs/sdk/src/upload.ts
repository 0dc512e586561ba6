import { ApiClient, PartUrl, UploadApiError, UploadState } from './api';
import { base64ToHex, sha256Base64 } from './hash';
import { PROGRESS_INTERVAL_MS, ProgressMeter, UploadProgress } from './progress';
import { backoffDelay, retryableStatus, sleep } from './retry';
import type { UploadSource } from './sources';
import type { StoragePutAnswer } from './transport';

export type { UploadProgress };

export interface UploadOptions {
  filename: string;
  contentType?: string;
  metadata?: Record<string, unknown>;
  /** Parts in flight at once (default 4). */
  concurrency?: number;
  /** SHA-256 of every part (and of a single-PUT file), signed into its URL and checked by storage (default true). */
  checksums?: boolean;
  /** Byte-level progress (see UploadProgress): at most once per `progressIntervalMs`, and the final state at once. */
  onProgress?: (progress: UploadProgress) => void;
  /** Minimum time between two progress events (default 100 ms; 0: every change). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface UploadResult {
  id: string;
  /** `completing` (storage has the parts; its event will mark the file uploaded) or later. */
  status: string;
}

/** A storage PUT that failed for good. */
export class StorageUploadError extends Error {
  constructor(
    readonly partNumber: number,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StorageUploadError';
  }
}

/** URLs are re-signed this long before they expire, so a slow part never starts on a dying URL. */
const EXPIRY_MARGIN_MS = 60_000;
/** The API signs at most this many part URLs per call. */
const MAX_URLS_PER_SIGN = 1000;

/**
 * How many part URLs to sign per call when they can be signed ahead (parts without checksums):
 * about a tenth of the upload, so even 10,000 parts take about ten calls, and at least one per
 * worker. A URL that expires before its part is sent is signed again (EXPIRY_MARGIN_MS).
 */
export function signBatchSize(partCount: number, workers: number): number {
  return Math.min(MAX_URLS_PER_SIGN, Math.max(workers, Math.ceil(partCount / 10)));
}

/**
 * One upload: single PUT or parallel parts, resumable from its id. Starts on construction;
 * `done` settles when storage holds every byte and completion was requested.
 */
export class Upload {
  id: string | null;
  readonly done: Promise<UploadResult>;
  private readonly abortController = new AbortController();
  private pauseController = new AbortController();
  private paused: { promise: Promise<void>; release: () => void } | null = null;
  private readonly urls = new Map<number, PartUrl>();
  private pendingSigns = new Map<number, Array<{ resolve: (u: PartUrl) => void; reject: (e: unknown) => void; checksum?: string }>>();
  private signScheduled = false;
  /** Parts not yet started, and how many URLs a signing call asks for, when URLs are signed ahead. */
  private signAhead: { queue: readonly number[]; size: number } | null = null;
  private meter: ProgressMeter | null = null;
  private readonly etags = new Map<number, string>();

  constructor(
    private readonly api: ApiClient,
    private readonly source: UploadSource,
    private readonly options: UploadOptions,
    resumeId?: string,
  ) {
    this.id = resumeId ?? null;
    options.signal?.addEventListener('abort', () => void this.abort(), { once: true });
    this.done = this.run().finally(() => this.meter?.stop());
    // Callers may attach to `done` later; an abort must not surface as an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  /** Stops sending: parts in flight are cancelled and sent again on resume(). */
  pause(): void {
    if (this.paused) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.paused = { promise, release };
    this.pauseController.abort(new DOMException('paused', 'AbortError'));
  }

  resume(): void {
    if (!this.paused) return;
    this.pauseController = new AbortController();
    this.paused.release();
    this.paused = null;
  }

  /** Cancels everything in flight and aborts the upload server-side (quota released). */
  async abort(): Promise<void> {
    if (this.abortController.signal.aborted) return;
    this.abortController.abort(new DOMException('upload aborted', 'AbortError'));
    this.paused?.release();
    if (this.id) await this.api.abort(this.id).catch(() => undefined);
  }

  private get signal(): AbortSignal {
    return this.abortController.signal;
  }

  private async run(): Promise<UploadResult> {
    const checksums = this.options.checksums ?? true;
    let state: UploadState | null = null;
    if (this.id) {
      state = await this.api.get(this.id, this.signal);
      if (!['pending', 'uploading', 'completing'].includes(state.status)) return { id: state.id, status: state.status };
      if (state.size !== this.source.size) throw new Error(`the source has ${this.source.size} bytes; upload ${state.id} expects ${state.size}`);
    } else {
      const wholeHash =
        checksums && this.source.size <= 64 * 1024 ** 2 ? base64ToHex(await sha256Base64(await this.source.read(0, this.source.size))) : undefined;
      const initiated = await this.api.initiate(
        {
          filename: this.options.filename,
          size: this.source.size,
          contentType: this.options.contentType ?? 'application/octet-stream',
          ...(wholeHash ? { sha256: wholeHash } : {}),
          ...(checksums ? { checksum: 'sha256' as const } : {}),
          ...(this.options.metadata ? { metadata: this.options.metadata } : {}),
        },
        this.signal,
      );
      this.id = initiated.id;
      if ('deduplicated' in initiated) {
        this.meter = this.newMeter(initiated.size, 0);
        this.meter.start(initiated.size, 0);
        return { id: initiated.id, status: initiated.status };
      }
      if (initiated.mode === 'single') {
        this.urls.set(1, { partNumber: 1, url: initiated.upload.url, headers: initiated.upload.headers, expiresAt: initiated.expiresAt });
        state = {
          id: initiated.id,
          status: 'pending',
          mode: 'single',
          filename: this.options.filename,
          size: initiated.size,
          contentType: '',
          uploadedParts: [],
          bytesUploaded: 0,
          expiresAt: initiated.expiresAt,
          createdAt: '',
        };
      } else {
        for (const p of initiated.parts) this.urls.set(p.partNumber, p);
        state = {
          id: initiated.id,
          status: 'pending',
          mode: 'multipart',
          filename: this.options.filename,
          size: initiated.size,
          contentType: '',
          partSize: initiated.partSize,
          partCount: initiated.partCount,
          checksum: checksums ? 'sha256' : null,
          uploadedParts: [],
          bytesUploaded: 0,
          expiresAt: initiated.expiresAt,
          createdAt: '',
        };
      }
    }
    const id = state.id;
    const partSize = state.mode === 'multipart' ? state.partSize! : Math.max(1, state.size);
    const partCount = state.mode === 'multipart' ? state.partCount! : 1;
    const sizeOf = (n: number) => (n < partCount ? partSize : state.size - partSize * (partCount - 1));

    // Resume: keep what storage holds (at the planned size); send everything else.
    for (const p of state.uploadedParts) if (p.size === sizeOf(p.partNumber)) this.etags.set(p.partNumber, p.etag);
    const meter = (this.meter = this.newMeter(state.size, partCount));
    const storedBytes = [...this.etags.keys()].reduce((s, n) => s + sizeOf(n), 0);
    // A completing upload's parts are all in storage (which may no longer list them).
    if (state.status === 'completing') meter.start(state.size, partCount);
    else meter.start(storedBytes, this.etags.size);

    if (state.status !== 'completing') {
      const queue = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !this.etags.has(n));
      const workers = Math.max(1, Math.min(this.options.concurrency ?? 4, queue.length));
      // Part checksums follow how the upload was created (a resumed upload may predate this client).
      const partChecksums = state.mode === 'multipart' && (state.checksum === 'sha256' || (state.checksum === undefined && checksums));
      // A URL signed with a part's checksum needs the part hashed first: those are signed as workers
      // reach them. Without checksums, URLs are signed ahead, in batches sized by the part count.
      if (state.mode === 'multipart' && !partChecksums) this.signAhead = { queue, size: signBatchSize(partCount, workers) };
      await Promise.all(Array.from({ length: workers }, () => this.worker(id, queue, sizeOf, partSize, partChecksums, meter)));
    }
    meter.finish();
    if (state.mode === 'single') return { id, status: 'pending' };
    const parts = [...this.etags].map(([partNumber, etag]) => ({ partNumber, etag })).sort((a, b) => a.partNumber - b.partNumber);
    const completed = await this.api.complete(id, parts, this.signal);
    return { id, status: completed.status };
  }

  private newMeter(totalBytes: number, partCount: number): ProgressMeter {
    return new ProgressMeter(totalBytes, partCount, this.options.onProgress, this.options.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
  }

  private async worker(id: string, queue: number[], sizeOf: (n: number) => number, partSize: number, checksums: boolean, meter: ProgressMeter): Promise<void> {
    for (;;) {
      if (this.paused) await this.paused.promise;
      if (this.signal.aborted) throw this.signal.reason;
      const n = queue.shift();
      if (n === undefined) return;
      const start = (n - 1) * partSize;
      const bytes = await this.source.read(start, start + sizeOf(n));
      const checksum = checksums ? await sha256Base64(bytes) : undefined;
      const etag = await this.sendPart(id, n, bytes, checksum, meter);
      if (etag === null) {
        queue.unshift(n); // paused mid-flight: send it again after resume()
        continue;
      }
      this.etags.set(n, etag);
      meter.partDone(n, bytes.byteLength);
    }
  }

  /**
   * PUTs one part with retries; null when cancelled by pause(). The bytes an attempt sent count
   * towards progress while it runs and are dropped when it fails (UploadProgress).
   */
  private async sendPart(id: string, n: number, bytes: Uint8Array, checksum: string | undefined, meter: ProgressMeter): Promise<string | null> {
    const retry = this.api.retry;
    for (let attempt = 1; ; attempt++) {
      const pauseSignal = this.pauseController.signal;
      let url = await this.urlFor(id, n, checksum);
      if (Date.parse(url.expiresAt) - EXPIRY_MARGIN_MS < Date.now()) {
        this.urls.delete(n);
        url = await this.urlFor(id, n, checksum);
      }
      let response: StoragePutAnswer | null = null;
      let failure: unknown = null;
      // Counts only while this attempt runs: a body still being read after storage answered must
      // not count towards the next attempt.
      let live = true;
      try {
        response = await this.api.storagePut({
          url: url.url,
          headers: url.headers,
          body: bytes,
          signal: AbortSignal.any([this.signal, pauseSignal]),
          onBytesSent: (sent) => {
            if (live) meter.sending(n, sent);
          },
        });
      } catch (error) {
        failure = error;
      }
      live = false;
      const ok = response !== null && response.status >= 200 && response.status < 300;
      if (!ok) meter.dropped(n);
      if (failure !== null) {
        if (this.signal.aborted) throw this.signal.reason;
        if (pauseSignal.aborted) return null;
      }
      if (response && ok) {
        const etag = response.etag;
        if (!etag) throw new StorageUploadError(n, response.status, 'storage answered without an ETag (is it exposed by the bucket CORS rule?)');
        return etag.replace(/"/g, '');
      }
      // A single PUT's URL is single-use (If-None-Match: *): 412 means storage already holds the
      // object, written by an earlier attempt whose answer was lost. Verification judges its bytes.
      if (response?.status === 412 && url.headers['if-none-match'] === '*') return '';
      // An expired or otherwise refused signature: sign again.
      if (response?.status === 403) this.urls.delete(n);
      const again = failure !== null || (response !== null && (response.status === 403 || retryableStatus(response.status)));
      if (!again || attempt >= retry.attempts) {
        throw new StorageUploadError(
          n,
          response?.status ?? 0,
          `part ${n} failed after ${attempt} attempt(s): ${response ? `HTTP ${response.status}` : String(failure)}`,
        );
      }
      await sleep(backoffDelay(attempt, retry), this.signal);
    }
  }

  /** Signs URLs lazily and in batches: requests made in the same tick share one API call. */
  private urlFor(id: string, n: number, checksum?: string): Promise<PartUrl> {
    const cached = this.urls.get(n);
    if (cached) return Promise.resolve(cached);
    return new Promise((resolve, reject) => {
      const waiters = this.pendingSigns.get(n) ?? [];
      waiters.push({ resolve, reject, checksum });
      this.pendingSigns.set(n, waiters);
      this.scheduleSigns(id);
    });
  }

  /** Signs what is pending on the next tick: requests made in the same tick share one call. */
  private scheduleSigns(id: string): void {
    if (this.signScheduled || !this.pendingSigns.size) return;
    this.signScheduled = true;
    setTimeout(() => void this.flushSigns(id), 0);
  }

  private async flushSigns(id: string): Promise<void> {
    this.signScheduled = false;
    const batch = this.pendingSigns;
    this.pendingSigns = new Map();
    const numbers = [...batch.keys()];
    if (this.signAhead) {
      for (const n of this.signAhead.queue) {
        if (numbers.length >= this.signAhead.size) break;
        if (!batch.has(n) && !this.urls.has(n)) numbers.push(n);
      }
    }
    // More waiters than one call signs (concurrency above 1,000): the rest go in the next call.
    for (const n of numbers.splice(MAX_URLS_PER_SIGN)) {
      this.pendingSigns.set(n, batch.get(n)!);
      batch.delete(n);
    }
    this.scheduleSigns(id);
    const checksums: Record<string, string> = {};
    for (const n of numbers) {
      const c = batch.get(n)?.find((w) => w.checksum)?.checksum;
      if (c) checksums[String(n)] = c;
    }
    try {
      const { parts } = await this.api.signParts(id, numbers, Object.keys(checksums).length ? checksums : undefined, this.signal);
      for (const p of parts) {
        this.urls.set(p.partNumber, p);
        for (const w of batch.get(p.partNumber) ?? []) w.resolve(p);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  }
}

export { UploadApiError };
