import { MultiBar, SingleBar } from 'cli-progress';
import { formatBytes, formatDuration } from './output';

export type ProgressMode = 'bar' | 'line' | 'none';

/** What an upload or download run reports as it goes; how it is shown is the reporter's business. */
export interface ProgressReporter {
  start(files: number, totalBytes: number): void;
  fileStarted(key: string, name: string, size: number): void;
  /** `bytes`: what storage holds of the file now; `held`: of which already there before this run (default: as last reported). */
  fileProgress(key: string, bytes: number, held?: number): void;
  fileDone(key: string, line: string): void;
  stop(): void;
}

/** `auto`: bars on a terminal, lines otherwise (a CI log, a pipe). */
export function progressMode(requested: string | undefined, isTTY: boolean, json: boolean): ProgressMode {
  if (requested === 'bar' || requested === 'line' || requested === 'none') return requested;
  if (json) return 'none';
  return isTTY ? 'bar' : 'line';
}

export function createReporter(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (mode === 'bar') return new BarReporter(stream);
  if (mode === 'line') return new LineReporter(stream);
  return new Totals();
}

/** Totals and speed over the last few seconds; the base of every reporter (and `none` itself). */
class Totals implements ProgressReporter {
  protected files = 0;
  protected filesDone = 0;
  protected totalBytes = 0;
  protected readonly perFile = new Map<string, { name: string; size: number; bytes: number; held: number }>();
  private readonly samples: Array<{ at: number; sent: number }> = [];
  private sentThisRun = 0;
  private doneBytes = 0;
  private startedAt = Date.now();

  start(files: number, totalBytes: number): void {
    this.files = files;
    this.totalBytes = totalBytes;
    this.startedAt = Date.now();
  }

  fileStarted(key: string, name: string, size: number): void {
    this.perFile.set(key, { name, size, bytes: 0, held: 0 });
  }

  fileProgress(key: string, bytes: number, held?: number): void {
    const file = this.perFile.get(key);
    if (!file) return;
    held ??= file.held;
    // Bytes storage already had are progress, but not speed.
    this.sentThisRun += Math.max(0, bytes - held - (file.bytes - file.held));
    file.bytes = bytes;
    file.held = held;
    const now = Date.now();
    this.samples.push({ at: now, sent: this.sentThisRun });
    while (this.samples.length > 2 && now - this.samples[0].at > 10_000) this.samples.shift();
  }

  fileDone(key: string, _line: string): void {
    const file = this.perFile.get(key);
    this.doneBytes += file?.size ?? 0;
    this.perFile.delete(key);
    this.filesDone++;
  }

  stop(): void {}

  protected get bytesDone(): number {
    let active = 0;
    for (const f of this.perFile.values()) active += f.bytes;
    return this.doneBytes + active;
  }

  /** Bytes per second over the last seconds; over the whole run while that is too short to tell. */
  protected get speed(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first && last && last.at - first.at >= 500) return ((last.sent - first.sent) * 1000) / (last.at - first.at);
    const elapsed = Date.now() - this.startedAt;
    return elapsed >= 200 ? (this.sentThisRun * 1000) / elapsed : 0;
  }

  protected get eta(): number {
    const speed = this.speed;
    return speed > 0 ? (this.totalBytes - this.bytesDone) / speed : NaN;
  }

  protected summary(): string {
    const pct = this.totalBytes ? Math.floor((this.bytesDone / this.totalBytes) * 100) : 100;
    return `${String(pct).padStart(3)}% ${formatBytes(this.bytesDone)}/${formatBytes(this.totalBytes)}  ${formatBytes(this.speed)}/s  ETA ${formatDuration(this.eta)}`;
  }
}

/** A line per finished file and a totals line every few seconds: readable in a CI log. */
class LineReporter extends Totals {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly stream: NodeJS.WritableStream) {
    super();
  }

  override start(files: number, totalBytes: number): void {
    super.start(files, totalBytes);
    this.stream.write(`upl: ${files} file(s), ${formatBytes(totalBytes)}\n`);
    this.timer = setInterval(() => this.stream.write(`upl: ${this.filesDone}/${this.files} files  ${this.summary()}\n`), 2_000);
    this.timer.unref();
  }

  override fileDone(key: string, line: string): void {
    super.fileDone(key, line);
    this.stream.write(`${line}\n`);
  }

  override stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

const NAME_WIDTH = 28;
const BAR_WIDTH = 24;

function bar(fraction: number): string {
  const full = Math.max(0, Math.min(BAR_WIDTH, Math.round(fraction * BAR_WIDTH)));
  return `${'█'.repeat(full)}${'░'.repeat(BAR_WIDTH - full)}`;
}

function fit(name: string): string {
  return name.length <= NAME_WIDTH ? name.padEnd(NAME_WIDTH) : `…${name.slice(-(NAME_WIDTH - 1))}`;
}

/** One bar per file being sent and a total bar (bytes, speed, ETA), redrawn in place on a terminal. */
class BarReporter extends Totals {
  private readonly multibar: MultiBar;
  private total: SingleBar | null = null;
  private readonly bars = new Map<string, SingleBar>();

  constructor(stream: NodeJS.WriteStream) {
    super();
    this.multibar = new MultiBar({
      stream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 8,
      format: (_options, params, payload: { line?: () => string }) => payload.line?.() ?? `${params.value}/${params.total}`,
    });
  }

  override start(files: number, totalBytes: number): void {
    super.start(files, totalBytes);
    this.total = this.multibar.create(Math.max(1, totalBytes), 0, {
      line: () => {
        const fraction = this.totalBytes ? this.bytesDone / this.totalBytes : 1;
        return `${fit(`Total ${this.filesDone}/${this.files} files`)} ${bar(fraction)} ${this.summary()}`;
      },
    });
  }

  override fileStarted(key: string, name: string, size: number): void {
    super.fileStarted(key, name, size);
    const file = this.perFile.get(key)!;
    this.bars.set(
      key,
      this.multibar.create(Math.max(1, size), 0, {
        line: () => {
          const fraction = file.size ? file.bytes / file.size : 1;
          return `${fit(name)} ${bar(fraction)} ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(file.bytes)}/${formatBytes(file.size)}`;
        },
      }),
    );
  }

  override fileProgress(key: string, bytes: number, held?: number): void {
    super.fileProgress(key, bytes, held);
    this.bars.get(key)?.update(bytes);
    this.total?.update(this.bytesDone);
  }

  override fileDone(key: string, line: string): void {
    super.fileDone(key, line);
    const b = this.bars.get(key);
    if (b) this.multibar.remove(b);
    this.bars.delete(key);
    this.multibar.log(`${line}\n`);
    this.total?.update(this.bytesDone);
  }

  override stop(): void {
    this.total?.update(this.bytesDone);
    // A redraw first: it prints the lines logged since the last one (the last file's line), which
    // stop() alone drops. stop() then redraws only bars whose text changed, and after a removed
    // bar the unchanged total would be left blank: forget what was drawn so it is drawn again.
    this.multibar.update();
    for (const b of [this.total, ...this.bars.values()]) if (b) (b as unknown as { lastDrawnString: string }).lastDrawnString = '';
    this.multibar.stop();
  }
}
