/**
 * An upload's progress, as `onProgress` receives it.
 *
 * `bytesUploaded` counts the bytes of parts storage has acknowledged plus the bytes the parts in
 * flight have sent so far (XMLHttpRequest upload events in browsers, the streamed body in Node).
 * It never goes backwards: when an attempt fails or is cancelled by `pause()`, its bytes are taken
 * out of the count, and the reported value holds still until the attempt that sends the part
 * again has passed it. It equals `totalBytes` exactly when every part is stored (`partsDone ===
 * partCount`), and the last event of a finished upload always has it so.
 */
export interface UploadProgress {
  bytesUploaded: number;
  totalBytes: number;
  /** Parts storage acknowledged (a resumed upload starts with those it already held). */
  partsDone: number;
  partCount: number;
}

/** Default minimum time between two progress events of one upload (the final one is never held back). */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Counts an upload's bytes and reports them through `onProgress` at most once per interval (the
 * latest state wins; the final state is reported at once).
 */
export class ProgressMeter {
  private confirmedBytes = 0;
  private partsDone = 0;
  private readonly inFlight = new Map<number, number>();
  private inFlightBytes = 0;
  /** The highest count reported so far: what keeps `bytesUploaded` monotonic across retries. */
  private highWater = 0;
  private last: UploadProgress | null = null;
  private lastAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly totalBytes: number,
    private readonly partCount: number,
    private readonly onProgress: ((progress: UploadProgress) => void) | undefined,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Parts storage already holds (a resume): reported at once. */
  start(confirmedBytes: number, partsDone: number): void {
    this.confirmedBytes = confirmedBytes;
    this.partsDone = partsDone;
    this.emit();
  }

  /** The attempt in flight for part `n` has sent `sent` bytes of it. */
  sending(n: number, sent: number): void {
    this.inFlightBytes += sent - (this.inFlight.get(n) ?? 0);
    this.inFlight.set(n, sent);
    this.changed();
  }

  /** The attempt for part `n` failed or was cancelled: its bytes no longer count. */
  dropped(n: number): void {
    this.inFlightBytes -= this.inFlight.get(n) ?? 0;
    this.inFlight.delete(n);
  }

  /** Storage acknowledged part `n` of `size` bytes. */
  partDone(n: number, size: number): void {
    this.dropped(n);
    this.confirmedBytes += size;
    this.partsDone++;
    this.changed();
  }

  /** Every part is stored: reports the final state now, and nothing after. */
  finish(): void {
    this.emit();
    this.stop();
  }

  /** The upload ended (or failed): no more events. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private changed(): void {
    if (this.stopped || this.timer || !this.onProgress) return;
    const wait = this.lastAt + this.intervalMs - this.now();
    if (wait <= 0) this.emit();
    else this.timer = setTimeout(() => this.emit(), wait);
  }

  private emit(): void {
    this.timer = null;
    if (this.stopped) return;
    // A part counts in full only once storage acknowledged it, so the total is reached only then.
    const cap = this.partsDone < this.partCount ? this.totalBytes - 1 : this.totalBytes;
    this.highWater = Math.max(this.highWater, Math.min(cap, this.confirmedBytes + this.inFlightBytes));
    const progress: UploadProgress = { bytesUploaded: this.highWater, totalBytes: this.totalBytes, partsDone: this.partsDone, partCount: this.partCount };
    if (this.last && this.last.bytesUploaded === progress.bytesUploaded && this.last.partsDone === progress.partsDone) return;
    this.last = progress;
    this.lastAt = this.now();
    try {
      this.onProgress?.({ ...progress });
    } catch (error) {
      // Like an event listener's: surfaced, but it does not break the upload (events may come from a timer).
      setTimeout(() => {
        throw error;
      }, 0);
    }
  }
}
