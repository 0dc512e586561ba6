import { spawn } from 'node:child_process';
import { MediaError } from './image';

/**
 * The project's own adapter over ffmpeg and ffprobe (ADR 0026), replacing the npm wrapper used
 * before (archived upstream, deprecated on npm). The binaries come from PATH and run through `spawn` with argument
 * arrays, never a shell, so a URL or path is one argument whatever characters it holds. The pure
 * parts (arguments, ffprobe's JSON, error mapping) are separate from the one function that runs a
 * process, so they are unit-tested without ffmpeg.
 */
export type FfTool = 'ffmpeg' | 'ffprobe';

/** How a run ended. A run never rejects: `ffFailure` turns this into a MediaError, or none. */
export interface FfRun {
  tool: FfTool;
  /** Exit code, null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed (SIGKILL) because it outlasted its time limit. */
  timedOut: boolean;
  /** Killed (SIGKILL) because stdout grew past `maxStdoutBytes`. */
  stdoutOverflow: boolean;
  /** The process could not be started (ENOENT when the tool is not on PATH). */
  spawnError: Error | null;
  stdout: string;
  /** The last `STDERR_TAIL_BYTES` of stderr: ffmpeg's error is at the end; its progress lines before it are not kept. */
  stderr: string;
}

export interface FfRunOptions {
  timeoutSeconds: number;
  /** Collect stdout (ffprobe's JSON) up to this many bytes; without it stdout is discarded. */
  maxStdoutBytes?: number;
}

/** How much of stderr is kept for error messages. */
export const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * Keeps the last `limit` bytes of a stream. When bytes were dropped, the (possibly cut) first line
 * is dropped too, so what remains is whole lines.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const excess = this.size - this.limit;
      const first = this.chunks[0];
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
      this.dropped = true;
    }
  }

  toString(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    if (!this.dropped) return text;
    const newline = text.search(/[\r\n]/);
    return newline === -1 ? '' : text.slice(newline + 1);
  }
}

/**
 * Runs ffmpeg or ffprobe (from PATH) with `args`. Past `timeoutSeconds` the process is killed with
 * SIGKILL, not left reading and decoding after the file has failed (issue #11); the promise settles
 * once the process is gone. stdin is closed (and ffmpeg told `-nostdin` by the callers), so ffmpeg
 * never waits on a terminal.
 */
export function runFf(tool: FfTool, args: readonly string[], options: FfRunOptions): Promise<FfRun> {
  return new Promise<FfRun>((resolve) => {
    const stderr = new TailBuffer(STDERR_TAIL_BYTES);
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let timedOut = false;
    let stdoutOverflow = false;
    let settled = false;

    const child = spawn(tool, args, {
      stdio: ['ignore', options.maxStdoutBytes === undefined ? 'ignore' : 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutSeconds * 1000);

    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        tool,
        code,
        signal,
        timedOut,
        stdoutOverflow,
        spawnError,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderr.toString(),
      });
    };

    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdoutOverflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > (options.maxStdoutBytes ?? 0)) {
        stdoutOverflow = true;
        kill();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      // Failed to start (no process to wait for), or failed to be killed (it is still running).
      if (child.pid === undefined) finish(null, null, error);
    });
    // 'close' comes after the process has exited and its streams have ended.
    child.on('close', (code, signal) => finish(code, signal, null));
  });
}

/**
 * The former wrapper's reading of ffmpeg's stderr, kept so messages stay as they were: the last lines
 * that do not start with a space or a `[` (ffmpeg's final error, after the per-component log lines).
 */
export function extractFfmpegError(stderr: string): string {
  let messages: string[] = [];
  for (const line of stderr.split(/\r\n|\r|\n/)) {
    if (line.startsWith(' ') || line.startsWith('[')) messages = [];
    else messages.push(line);
  }
  return messages.join('\n');
}

/**
 * The tool could not be started (not on PATH, not executable, no memory to fork): a fault of the
 * worker, not of the file, so it is not a MediaError. The job fails and is retried (and counted in
 * queue_jobs_processed_total{outcome="failed"}); the file is never rejected for it.
 */
export class FfUnavailableError extends Error {
  constructor(tool: FfTool, cause: Error) {
    super(`${tool} could not be started: ${cause.message}`, { cause });
    this.name = 'FfUnavailableError';
  }
}

/**
 * A run's outcome as a MediaError (null when it succeeded): `timeout` when it was killed for its
 * time limit, otherwise `undecodable`, with a one-line message in the style callers store as the
 * rejection reason (`ffprobe: <first stderr line>`, `ffmpeg: ffmpeg exited with code N: <error>`).
 * A tool that could not start is an FfUnavailableError instead.
 */
export function ffFailure(run: FfRun, timeoutSeconds: number): MediaError | FfUnavailableError | null {
  if (run.spawnError) return new FfUnavailableError(run.tool, run.spawnError);
  if (run.timedOut) return new MediaError('timeout', `${run.tool} took longer than ${timeoutSeconds} s`);
  let detail: string;
  if (run.stdoutOverflow) detail = 'stdout maxBuffer length exceeded';
  else if (run.code === 0 && run.signal === null) return null;
  else if (run.tool === 'ffprobe') detail = run.stderr.trim() || describeExit(run);
  else {
    const error = extractFfmpegError(run.stderr);
    detail = run.signal ? `ffmpeg was killed with signal ${run.signal}` : `ffmpeg exited with code ${run.code}${error ? `: ${error}` : ''}`;
  }
  return new MediaError('undecodable', `${run.tool}: ${detail.split('\n')[0]}`);
}

function describeExit(run: FfRun): string {
  return run.signal ? `killed with signal ${run.signal}` : `exited with code ${run.code}`;
}

/** Runs the tool and throws its MediaError (or FfUnavailableError) on failure; returns stdout. */
export async function runFfOrThrow(tool: FfTool, args: readonly string[], options: FfRunOptions): Promise<string> {
  const run = await runFf(tool, args, options);
  const failure = ffFailure(run, options.timeoutSeconds);
  if (failure) throw failure;
  return run.stdout;
}

/** ffprobe's JSON for one input: container and streams. */
export function probeArgs(url: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', url];
}

/**
 * One JPEG frame at `atSeconds`, at most `maxEdge` wide (never upscaled). `-ss` comes before `-i`
 * (an input option), so ffmpeg jumps to the nearest keyframe instead of decoding from the start:
 * a 10-minute video costs about what a 10-second one does.
 */
export function posterArgs(url: string, atSeconds: number, maxEdge: number, out: string): string[] {
  return ['-hide_banner', '-nostdin', '-ss', atSeconds.toFixed(3), '-i', url, '-y', '-frames:v', '1', '-vf', `scale='min(${maxEdge},iw)':-2`, '-q:v', '3', out];
}

/**
 * An H.264/AAC MP4 whose shorter edge is at most `lines` (portrait stays portrait), never
 * upscaled, with the index first (`+faststart`) so players start before the download ends. The
 * first video stream and the first audio stream if there is one (`0:a:0?`).
 */
export function renditionArgs(url: string, out: string, lines: number): string[] {
  const fit = `scale='if(gte(iw,ih),-2,min(${lines},iw))':'if(gte(iw,ih),min(${lines},ih),-2)'`;
  return [
    '-hide_banner',
    '-nostdin',
    '-i',
    url,
    '-y',
    '-c:a',
    'aac',
    '-c:v',
    'libx264',
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-vf',
    fit,
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    out,
  ];
}
