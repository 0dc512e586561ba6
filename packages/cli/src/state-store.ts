import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One file's upload, as remembered between runs. */
export interface UploadEntry {
  /** Absolute path of the source file. */
  path: string;
  size: number;
  mtimeMs: number;
  /** Where it goes: the API's URL and the owner (a tenant API key acts for one). */
  target: string;
  uploadId: string;
  /** Last status the CLI saw; `stored` once storage holds the file (nothing more to send). */
  status: 'sending' | 'sent' | 'stored';
  updatedAt: string;
}

interface StateFile {
  version: 1;
  uploads: Record<string, UploadEntry>;
  /** The change feed's cursor per target, for `upl watch`. */
  cursors: Record<string, string>;
}

export const STATE_FILE = 'upl-state.json';
/** A lock older than this was left by a process that died holding it (a change takes milliseconds). */
const STALE_LOCK_MS = 10_000;
/** Finished uploads are remembered this long (re-running an old command still skips them), then forgotten. */
const KEEP_STORED_MS = 30 * 24 * 3600 * 1000;

/** Where uploads go: the same file sent to another server or owner is another upload. */
export function targetOf(url: string, owner: string | undefined): string {
  return `${url.replace(/\/+$/, '')}#${owner ?? ''}`;
}

/** A file is the same file while its path, size and mtime are unchanged. */
export function entryKey(target: string, file: { path: string; size: number; mtimeMs: number }): string {
  return `${target}|${file.path}|${file.size}|${Math.trunc(file.mtimeMs)}`;
}

/**
 * The CLI's memory across runs (`upl-state.json` in the state directory): which upload id each
 * local file went into, so a re-run after Ctrl-C or a crash continues instead of starting over,
 * and `upl watch`'s cursor. Every change is written at once (write to a temporary file, then
 * rename: a crash leaves the old or the new file, never half of one). Changes are serialised in
 * this process, and across processes (an upload and a watch, two uploads) by a lock file held
 * for each read-modify-write, so no process overwrites what another just wrote.
 */
export class StateStore {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Array<{ apply: (state: StateFile) => void; resolve: () => void; reject: (error: unknown) => void }> = [];
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dir, STATE_FILE);
  }

  async get(key: string): Promise<UploadEntry | undefined> {
    await this.queue;
    return (await this.read()).uploads[key];
  }

  /** Unfinished uploads of one target (or of all). */
  async unfinished(target?: string): Promise<Array<[string, UploadEntry]>> {
    await this.queue;
    return Object.entries((await this.read()).uploads).filter(([, e]) => e.status !== 'stored' && (target === undefined || e.target === target));
  }

  put(key: string, entry: Omit<UploadEntry, 'updatedAt'>): Promise<void> {
    return this.change((state) => {
      state.uploads[key] = { ...entry, updatedAt: new Date(this.now()).toISOString() };
    });
  }

  remove(key: string): Promise<void> {
    return this.change((state) => {
      delete state.uploads[key];
    });
  }

  /** Forgets the entries of a file deleted on the server (`upl rm`), so uploading it again sends it. */
  forgetUpload(target: string, uploadId: string): Promise<void> {
    return this.change((state) => {
      for (const [key, e] of Object.entries(state.uploads)) if (e.target === target && e.uploadId === uploadId) delete state.uploads[key];
    });
  }

  async cursor(target: string): Promise<string | undefined> {
    await this.queue;
    return (await this.read()).cursors[target];
  }

  setCursor(target: string, cursor: string): Promise<void> {
    return this.change((state) => {
      state.cursors[target] = cursor;
    });
  }

  /** Resolves once every change asked for so far is on disk. */
  async flush(): Promise<void> {
    await this.queue;
  }

  /**
   * Applies a change in the next write. Changes asked for while a write is under way are
   * coalesced into one read-modify-write, so a folder of thousands of small files costs a bounded
   * number of rewrites of the file, not two per file.
   */
  private change(apply: (state: StateFile) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ apply, resolve, reject });
      if (this.pending.length > 1) return; // a write is already scheduled: it takes this change too
      this.queue = this.queue.then(async () => {
        const batch = this.pending.splice(0);
        try {
          await this.locked(async () => {
            const state = await this.read();
            for (const c of batch) c.apply(state);
            this.prune(state);
            await this.write(state);
          });
          for (const c of batch) c.resolve();
        } catch (error) {
          for (const c of batch) c.reject(error);
        }
      });
    });
  }

  /** Runs `fn` holding `<state file>.lock` (created exclusively; taken over when stale). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const lock = `${this.file}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lock, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const info = await stat(lock).catch(() => null);
        if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await unlink(lock).catch(() => undefined);
        else await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt)));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  private prune(state: StateFile): void {
    const cutoff = this.now() - KEEP_STORED_MS;
    for (const [key, e] of Object.entries(state.uploads)) if (e.status === 'stored' && Date.parse(e.updatedAt) < cutoff) delete state.uploads[key];
  }

  private async read(): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      return { version: 1, uploads: parsed.uploads ?? {}, cursors: parsed.cursors ?? {} };
    } catch {
      // A damaged state file costs re-sending, never a wrong answer: start from nothing.
      return empty();
    }
  }

  private async write(state: StateFile): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}

function empty(): StateFile {
  return { version: 1, uploads: {}, cursors: {} };
}
