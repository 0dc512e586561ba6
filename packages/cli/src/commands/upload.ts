import { stat } from 'node:fs/promises';
import type { Upload } from '@app/sdk';
import { Context } from '../context';
import { batchExitCode, ExitCode, UsageError } from '../exit-codes';
import { describeError, errorLine, formatBytes, formatDuration } from '../output';
import { createReporter, progressMode } from '../progress';
import { collectFiles, LocalFile } from '../walk';
import { FileResult, uploadFile } from './upload-file';

export interface UploadFlags {
  parallel: number;
  concurrency: number;
  type?: string;
  wait: boolean;
  progress?: string;
}

/** `upl upload <paths...>`: files and folders, several files at once, resumable by running it again. */
export async function uploadCommand(ctx: Context, paths: string[], flags: UploadFlags): Promise<number> {
  const files = await collectFiles(paths);
  if (files.length === 0) throw new UsageError('nothing to upload: the folders given hold no files');
  return run(ctx, files, flags, []);
}

/** `upl resume`: every unfinished upload the state file knows for this target. */
export async function resumeCommand(ctx: Context, flags: UploadFlags): Promise<number> {
  const files: LocalFile[] = [];
  const failed: FileResult[] = [];
  for (const [key, entry] of await ctx.store.unfinished(ctx.target)) {
    const info = await stat(entry.path).catch(() => null);
    if (info && info.size === entry.size && Math.trunc(info.mtimeMs) === Math.trunc(entry.mtimeMs)) {
      files.push({ path: entry.path, relativePath: entry.path, size: info.size, mtimeMs: info.mtimeMs });
      continue;
    }
    // The bytes the upload began with are gone: it cannot be continued (the server expires it).
    await ctx.store.remove(key);
    failed.push({
      path: entry.path,
      name: entry.path,
      size: entry.size,
      id: entry.uploadId,
      action: 'failed',
      status: null,
      partCount: 0,
      partsSent: 0,
      partsSkipped: 0,
      bytesSent: 0,
      error: new Error(info ? 'the file changed since its upload began: upload it again' : 'the file is gone'),
    });
  }
  if (files.length === 0 && failed.length === 0) {
    ctx.out.result({ summary: { files: 0 } }, 'Nothing to resume.');
    return ExitCode.ok;
  }
  return run(ctx, files, flags, failed);
}

async function run(ctx: Context, files: LocalFile[], flags: UploadFlags, failedBefore: FileResult[]): Promise<number> {
  const client = ctx.uploadClient();
  const target = ctx.target;
  const started = Date.now();
  const reporter = createReporter(progressMode(flags.progress, Boolean(process.stderr.isTTY), ctx.out.json));
  const active = new Set<Upload>();
  const results: FileResult[] = [...failedBefore];
  for (const r of failedBefore) report(ctx, r);

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(ExitCode.interrupted); // a second Ctrl-C: leave now
    interrupted = true;
    // Pause, never abort: parts in flight are cancelled, the uploads stay open server-side.
    for (const upload of active) upload.pause();
    reporter.stop();
    void ctx.store.flush().finally(() => {
      process.stderr.write(`\nInterrupted. What storage holds is kept; continue with the same command, or: upl resume\n`);
      process.exit(ExitCode.interrupted);
    });
  };
  process.on('SIGINT', onSigint);

  reporter.start(
    files.length,
    files.reduce((sum, f) => sum + f.size, 0),
  );
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file && !interrupted; file = queue.shift()) {
      const current = file;
      const key = current.path;
      reporter.fileStarted(key, current.relativePath, current.size);
      let upload: Upload | null = null;
      let result: FileResult;
      try {
        result = await uploadFile(current, {
          client,
          store: ctx.store,
          target,
          concurrency: flags.concurrency,
          contentType: flags.type,
          wait: flags.wait,
          onStart: (u) => {
            upload = u;
            active.add(u);
          },
          onProgress: (bytes, held) => reporter.fileProgress(key, bytes, held),
        });
      } catch (error) {
        if (interrupted) return;
        result = {
          path: current.path,
          name: current.relativePath,
          size: current.size,
          id: null,
          action: 'failed',
          status: null,
          partCount: 0,
          partsSent: 0,
          partsSkipped: 0,
          bytesSent: 0,
          error,
        };
      } finally {
        if (upload) active.delete(upload);
      }
      if (interrupted) return;
      // Done: the whole file counts, and what this run did not send was already there (speed).
      reporter.fileProgress(key, current.size, current.size - result.bytesSent);
      reporter.fileDone(key, line(result));
      results.push(result);
      if (ctx.out.json) ctx.out.result(jsonOf(result), '');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(flags.parallel, files.length)) }, worker));
  reporter.stop();
  process.off('SIGINT', onSigint);
  if (interrupted) return new Promise<number>(() => undefined); // the SIGINT handler exits

  const failures = results.filter((r) => r.action === 'failed');
  const count = (action: string) => results.filter((r) => r.action === action).length;
  const summary = {
    files: results.length,
    uploaded: count('uploaded') + count('restarted'),
    resumed: count('resumed'),
    skipped: count('skipped'),
    deduplicated: count('deduplicated'),
    failed: failures.length,
    bytes: results.reduce((s, r) => s + r.size, 0),
    bytesSent: results.reduce((s, r) => s + r.bytesSent, 0),
    seconds: (Date.now() - started) / 1000,
  };
  ctx.out.result(
    { summary },
    `${summary.files} file(s), ${formatBytes(summary.bytes)}: ${summary.uploaded} uploaded, ${summary.resumed} resumed, ${summary.skipped} skipped, ` +
      `${summary.deduplicated} deduplicated, ${summary.failed} failed; ${formatBytes(summary.bytesSent)} sent in ${formatDuration(summary.seconds)}`,
  );
  return batchExitCode(failures.map((f) => f.error));
}

function report(ctx: Context, result: FileResult): void {
  if (ctx.out.json) ctx.out.result(jsonOf(result), '');
  else process.stderr.write(`${line(result)}\n`);
}

function jsonOf(result: FileResult): Record<string, unknown> {
  const { error, ...rest } = result;
  return error === undefined ? rest : { ...rest, error: describeError(error) };
}

/** The line a person reads when a file is done. */
function line(r: FileResult): string {
  const what = `${r.name} (${formatBytes(r.size)})`;
  switch (r.action) {
    case 'failed':
      return `✗ ${what} failed: ${errorLine(r.error)}`;
    case 'skipped':
      return `= ${what} already uploaded${r.status ? `, ${r.status}` : ''}  ${r.id}`;
    case 'deduplicated':
      return `✓ ${what} already stored: instant upload  ${r.id}`;
    case 'resumed':
      return `✓ ${what} resumed: sent ${r.partsSent} of ${r.partCount} parts, ${r.partsSkipped} were stored  ${r.id}`;
    case 'restarted':
      return `✓ ${what} uploaded again (the earlier upload had ended)  ${r.id}`;
    default:
      return `✓ ${what} uploaded  ${r.id}`;
  }
}
