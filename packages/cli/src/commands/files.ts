import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetch as undiciFetch } from 'undici';
import { backoffDelay, DEFAULT_RETRY, retryableStatus, sleep, UploadApiError } from '@app/sdk';
import { causeOf, FileListQuery, FileView, problemError } from '../api';
import { Context } from '../context';
import { batchExitCode, ExitCode, UsageError } from '../exit-codes';
import { formatBytes, table } from '../output';

/** api-v1.md statuses of an upload whose bytes may still be arriving. */
const UNDER_WAY = new Set(['pending', 'uploading', 'completing']);
import { createReporter, progressMode } from '../progress';

export interface ListFlags {
  status?: string;
  type?: string;
  name?: string;
  after?: string;
  before?: string;
  limit: number;
  all: boolean;
}

/** `upl ls`: the owner's files, newest first, following the keyset pages up to --limit (or --all). */
export async function listCommand(ctx: Context, flags: ListFlags): Promise<number> {
  const api = ctx.api();
  // Filters are sent only when given: the API rejects parameters it does not know (400).
  const filters: FileListQuery = {
    status: flags.status,
    contentType: flags.type,
    filename: flags.name,
    createdAfter: flags.after,
    createdBefore: flags.before,
  };
  const items: FileView[] = [];
  let cursor: string | undefined;
  do {
    const want = flags.all ? 100 : Math.min(100, flags.limit - items.length);
    const page = await api.listFiles({ ...filters, cursor, limit: want });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && (flags.all || items.length < flags.limit));
  if (ctx.out.json) {
    for (const item of items) ctx.out.result(item, '');
    return ExitCode.ok;
  }
  if (items.length === 0) {
    ctx.out.result(null, 'No files.');
    return ExitCode.ok;
  }
  ctx.out.result(null, () =>
    table([
      ['ID', 'STATUS', 'SIZE', 'TYPE', 'CREATED', 'NAME'],
      ...items.map((f) => [f.id, f.status, formatBytes(f.size), f.detectedType ?? f.contentType, f.createdAt.replace(/\.\d+Z$/, 'Z'), f.filename]),
    ]),
  );
  return ExitCode.ok;
}

/** `upl info <id>`: a stored file, or (not stored yet) the upload's own state. */
export async function infoCommand(ctx: Context, id: string): Promise<number> {
  let notStored: UploadApiError;
  try {
    const file = await ctx.api().getFile(id);
    ctx.out.result(file, () => describeFile(file));
    return ExitCode.ok;
  } catch (error) {
    // GET /v1/files shows stored files only; an upload still under way is read as an upload.
    if (!(error instanceof UploadApiError && error.status === 404)) throw error;
    notStored = error;
  }
  // Storage's view of the parts (what a resume would skip), not only the ledger's.
  const upload = await ctx.uploadClient().api.get(id);
  // Deleted, aborted, expired: gone, as far as `ls` and `info` are concerned.
  if (!UNDER_WAY.has(upload.status)) throw notStored;
  ctx.out.result(upload, () =>
    table([
      ['id', upload.id],
      ['filename', upload.filename],
      ['status', upload.status],
      ['size', `${formatBytes(upload.size)} (${upload.size} bytes)`],
      ['sent', `${formatBytes(upload.bytesUploaded)}${upload.partCount ? `, ${upload.uploadedParts.length}/${upload.partCount} parts in storage` : ''}`],
      ['expires', upload.expiresAt],
    ]),
  );
  return ExitCode.ok;
}

function describeFile(f: FileView): string {
  const rows: string[][] = [
    ['id', f.id],
    ['filename', f.filename],
    ['status', f.status],
    ['size', `${formatBytes(f.size)} (${f.size} bytes)`],
    ['type', f.detectedType && f.detectedType !== f.contentType ? `${f.detectedType} (declared ${f.contentType})` : f.contentType],
    ['sha256', f.sha256 ?? '-'],
    ['created', f.createdAt],
    ['ready', f.readyAt ?? '-'],
  ];
  if (f.metadata && Object.keys(f.metadata).length) rows.push(['metadata', JSON.stringify(f.metadata)]);
  for (const v of f.variants) rows.push([`variant`, `${v.name} ${v.contentType} ${formatBytes(v.size)}${v.width ? ` ${v.width}x${v.height}` : ''}`]);
  return table(rows);
}

/**
 * `upl download <id> [-o path]`: the API redirects to a presigned GET; the bytes stream from
 * storage to a temporary file (renamed when complete, so a broken download never looks whole),
 * hashed on the way and checked against the file's verified SHA-256.
 */
export async function downloadCommand(ctx: Context, id: string, flags: { output?: string; variant?: string; progress?: string }): Promise<number> {
  const api = ctx.api();
  const file = await api.getFile(id);
  const response = await fetchFromStorage(() => api.contentUrl(id, flags.variant));
  const total = Number(response.headers.get('content-length') ?? (flags.variant ? 0 : file.size));
  const toStdout = flags.output === '-';
  const target = toStdout ? '-' : path.resolve(flags.output ?? safeName(flags.variant ? `${file.filename}.${flags.variant}` : file.filename));
  const reporter = createReporter(toStdout ? 'none' : progressMode(flags.progress, Boolean(process.stderr.isTTY), ctx.out.json));
  const hash = createHash('sha256');
  let received = 0;
  reporter.start(1, total);
  reporter.fileStarted(id, file.filename, total);
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      reporter.fileProgress(id, received);
      callback(null, chunk);
    },
  });
  const partial = `${target}.upl-partial`;
  try {
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      meter,
      toStdout ? process.stdout : createWriteStream(partial),
    );
  } catch (error) {
    reporter.stop();
    if (!toStdout) await rm(partial, { force: true });
    throw error;
  }
  const sha256 = hash.digest('hex');
  const matches = flags.variant || !file.sha256 ? null : file.sha256 === sha256;
  reporter.fileDone(id, `✓ ${file.filename} → ${target} (${formatBytes(received)})`);
  reporter.stop();
  if (matches === false) {
    if (!toStdout) await rm(partial, { force: true });
    throw new Error(`the download hashes to ${sha256}; the file's SHA-256 is ${file.sha256}`);
  }
  if (!toStdout) await rename(partial, target);
  const data = { id, path: target, bytes: received, sha256, verified: matches === true };
  if (toStdout) process.stderr.write(ctx.out.json ? `${JSON.stringify(data)}\n` : '');
  else ctx.out.result(data, `${target}  ${formatBytes(received)}  sha256 ${sha256}${matches ? ' (verified)' : ''}`);
  return ExitCode.ok;
}

/**
 * GETs the presigned URL, retrying what is worth retrying (network failures, 408/429/5xx) with a
 * fresh URL each time, like the SDK's part uploads. Once bytes flow, a failure is final.
 *
 * Through undici 8, not Node's own fetch: Node 24's bundled undici (7.30) crashes the process
 * with an uncatchable `assert(!this.paused)` when storage closes the connection while the disk
 * holds the body back (nodejs/undici#5360, fixed in #5474); a store that answers
 * `Connection: close` (moto, some proxies) makes every large download a coin toss.
 */
async function fetchFromStorage(presign: () => Promise<string>): Promise<Response & { body: ReadableStream<Uint8Array> }> {
  for (let attempt = 1; ; attempt++) {
    let response: Response | null = null;
    let failure: unknown = null;
    try {
      // undici's Response is the WHATWG one Node's fetch answers too (the same class, a newer build).
      response = (await undiciFetch(await presign())) as unknown as Response;
    } catch (error) {
      failure = error;
    }
    if (response?.ok && response.body) return response as Response & { body: ReadableStream<Uint8Array> };
    const again = failure !== null || (response !== null && retryableStatus(response.status));
    if (!again || attempt >= DEFAULT_RETRY.attempts) {
      if (response) throw await problemError('GET', 'storage', response);
      throw new Error(`could not download from storage: ${causeOf(failure)}`, { cause: failure });
    }
    await response?.body?.cancel();
    await sleep(backoffDelay(attempt, DEFAULT_RETRY));
  }
}

/** A name from the server becomes a file in the current folder only, never a path elsewhere. */
function safeName(name: string): string {
  const base = name.replace(/[/\\]/g, '_').replace(/^\.+/, '_');
  if (!base) throw new UsageError('the file has no usable name: pass -o <path>');
  return base;
}

/** `upl rm <id...>`: deletes stored files; an upload still under way is aborted instead. */
export async function removeCommand(ctx: Context, ids: string[]): Promise<number> {
  const api = ctx.api();
  const failures: unknown[] = [];
  for (const id of ids) {
    try {
      let action = 'deleted';
      try {
        await api.deleteFile(id);
      } catch (error) {
        if (!(error instanceof UploadApiError && error.code === 'invalid_state')) throw error;
        await api.abortUpload(id);
        action = 'aborted';
      }
      await ctx.store.forgetUpload(ctx.target, id);
      ctx.out.result({ id, action }, `${action} ${id}`);
    } catch (error) {
      failures.push(error);
      ctx.out.error(error);
    }
  }
  return batchExitCode(failures);
}
