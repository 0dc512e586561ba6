import { Upload, UploadApiError, UploadClient, UploadProgress, UploadSource } from '@app/sdk';
import { fromFile } from '@app/sdk/node';
import { contentTypeOf } from '../content-type';
import { entryKey, StateStore } from '../state-store';
import type { LocalFile } from '../walk';

/** api-v1.md statuses, as the CLI sorts them: storage holds the file / bytes may still be sent / over. */
const STORED = new Set(['uploaded', 'processing', 'ready']);
const IN_FLIGHT = new Set(['pending', 'uploading', 'completing']);

export type FileAction = 'uploaded' | 'resumed' | 'restarted' | 'skipped' | 'deduplicated' | 'failed';

/** One file's outcome: what `--json` prints per file. */
export interface FileResult {
  path: string;
  name: string;
  size: number;
  id: string | null;
  action: FileAction;
  status: string | null;
  partCount: number;
  /** Parts this run sent to storage. */
  partsSent: number;
  /** Parts storage already held (an earlier, interrupted run sent them). */
  partsSkipped: number;
  bytesSent: number;
  error?: unknown;
}

export interface FileTaskOptions {
  client: UploadClient;
  store: StateStore;
  target: string;
  concurrency: number;
  contentType?: string;
  /** Wait until storage's event marks the file uploaded (the platform's word), not only until the bytes are sent. */
  wait: boolean;
  onStart(upload: Upload): void;
  onProgress(bytes: number, held: number): void;
}

/**
 * Sends one file, continuing the upload an earlier run began when the state file knows one:
 * `client.resume` asks storage which parts it holds and sends only the others. An upload that
 * ended server-side (expired, aborted, failed) or that the server no longer knows starts over;
 * a file storage already holds is skipped.
 */
export async function uploadFile(file: LocalFile, options: FileTaskOptions): Promise<FileResult> {
  const key = entryKey(options.target, file);
  const base = { path: file.path, name: file.relativePath, size: file.size };
  const entry = await options.store.get(key);
  if (entry?.status === 'stored')
    return { ...base, id: entry.uploadId, action: 'skipped', status: 'stored', partCount: 0, partsSent: 0, partsSkipped: 0, bytesSent: 0 };

  // Nothing to send: storage holds every part (the answer names the upload as it stands).
  const skipped = (state: { status: string; partCount?: number }): FileResult => {
    const parts = state.partCount ?? 1;
    return { ...base, id: entry!.uploadId, action: 'skipped', status: state.status, partCount: parts, partsSent: 0, partsSkipped: parts, bytesSent: 0 };
  };

  let restarted = false;
  if (entry) {
    let state;
    try {
      state = await options.client.api.get(entry.uploadId, undefined, 'ledger');
    } catch (error) {
      if (!(error instanceof UploadApiError && (error.status === 404 || error.status === 410))) throw error;
    }
    if (state && STORED.has(state.status)) {
      await options.store.put(key, { ...entry, status: 'stored' });
      return skipped(state);
    }
    if (state && IN_FLIGHT.has(state.status)) {
      // Sent in full by an earlier run (storage answered every PUT and completion was asked for):
      // storage's event will confirm it; nothing to send again.
      if (entry.status === 'sent' && !options.wait) {
        return skipped(state);
      }
      try {
        const result = await send(file, key, options, entry.uploadId);
        if (result.status !== null && (IN_FLIGHT.has(result.status) || STORED.has(result.status))) return { ...result, action: 'resumed' };
      } catch (error) {
        // Lost by storage (410 upload_lost), gone (404), or moved to an end state meanwhile (409).
        if (!(error instanceof UploadApiError && [404, 409, 410].includes(error.status))) throw error;
      }
    }
    restarted = true; // ended server-side, unknown there, or ended while being resumed
  }
  const result = await send(file, key, options);
  return { ...result, action: result.action === 'deduplicated' ? 'deduplicated' : restarted ? 'restarted' : 'uploaded' };
}

async function send(file: LocalFile, key: string, options: FileTaskOptions, resumeId?: string): Promise<FileResult> {
  const source = await fromFile(file.path);
  let first: UploadProgress | null = null;
  let last: UploadProgress | null = null;
  let upload: Upload | undefined;
  let recorded: { id: string; write: Promise<void> } | null = resumeId ? { id: resumeId, write: Promise.resolve() } : null;
  const entry = (uploadId: string, status: 'sending' | 'sent' | 'stored') => ({
    path: file.path,
    size: file.size,
    mtimeMs: file.mtimeMs,
    target: options.target,
    uploadId,
    status,
  });
  /** Writes the upload's id to the state file once it exists; resolves when it is on disk. */
  const recordId = (): Promise<void> => {
    const id = upload?.id;
    if (!id) return Promise.resolve();
    if (recorded?.id !== id) recorded = { id, write: options.store.put(key, entry(id, 'sending')) };
    return recorded.write;
  };
  // No byte leaves before the id is on disk: the SDK reads each part from the source just before
  // sending it, so a read waits for the write. A crash after initiation thus leaves either an id
  // to resume or an upload that holds nothing (it expires), never stored bytes nobody knows of.
  const gated: UploadSource = {
    size: source.size,
    read: async (start, end) => {
      await recordId();
      return source.read(start, end);
    },
  };
  try {
    const onProgress = (p: UploadProgress) => {
      first ??= p;
      last = p;
      void recordId().catch(() => undefined); // a failed write fails the next read, and so the upload
      options.onProgress(p.bytesUploaded, first.bytesUploaded);
    };
    upload = resumeId
      ? options.client.resume(resumeId, gated, { concurrency: options.concurrency, onProgress })
      : options.client.upload(gated, {
          filename: basename(file.relativePath),
          contentType: options.contentType ?? contentTypeOf(file.path),
          metadata: { relativePath: file.relativePath },
          concurrency: options.concurrency,
          onProgress,
        });
    options.onStart(upload);
    const done = await upload.done;
    await recordId();
    // The SDK reports an instant upload (the content is already stored) as progress of zero parts.
    const deduplicated = !resumeId && first !== null && (first as UploadProgress).partCount === 0;
    let status = done.status;
    if (IN_FLIGHT.has(status) || STORED.has(status)) {
      if (options.wait && !STORED.has(status)) status = (await options.client.waitUntilStored(done.id, { timeoutMs: 10 * 60_000 })).status;
      await options.store.put(key, entry(done.id, STORED.has(status) ? 'stored' : 'sent'));
    }
    const f = first as UploadProgress | null;
    const l = last as UploadProgress | null;
    const partCount = l?.partCount || 1;
    const partsSkipped = f?.partsDone ?? 0;
    const partsSent = deduplicated ? 0 : Math.max(0, (l?.partsDone ?? 0) - partsSkipped);
    return {
      path: file.path,
      name: file.relativePath,
      size: file.size,
      id: done.id,
      action: deduplicated ? 'deduplicated' : 'uploaded',
      status,
      partCount: deduplicated ? 0 : partCount,
      partsSent,
      partsSkipped,
      bytesSent: deduplicated ? 0 : Math.max(0, (l?.bytesUploaded ?? 0) - (f?.bytesUploaded ?? 0)),
    };
  } finally {
    await source.close();
  }
}

function basename(relative: string): string {
  return relative.slice(relative.lastIndexOf('/') + 1);
}
