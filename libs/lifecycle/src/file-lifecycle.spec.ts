import { Logger } from '@nestjs/common';
import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileRepository, FileTransitionRepository, NewUpload, StorageEventRecord, TransitionPlan } from '@app/database';
import type { ObjectStorage } from '@app/storage';
import { aFile, aFileWithVariants, aMultipartUpload, strictMock, StrictMock } from '@app/testing';
import { FileLifecycle } from './file-lifecycle';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const AWAITING: FileStatusName[] = ['pending', 'uploading', 'completing'];
const LIVE: FileStatusName[] = ['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready', 'failed'];

interface Mocks {
  files: StrictMock<FileRepository>;
  transitions: StrictMock<FileTransitionRepository>;
  storage: StrictMock<ObjectStorage>;
}

/** The lifecycle over strict mocks: whatever a test does not hand in throws when touched. */
function lifecycleWith(given: Partial<Mocks> = {}) {
  const mocks: Mocks = {
    files: given.files ?? strictMock<FileRepository>('files'),
    transitions: given.transitions ?? strictMock<FileTransitionRepository>('transitions'),
    storage: given.storage ?? strictMock<ObjectStorage>('storage'),
  };
  // A mock has only the public members: the classes' private fields make the cast necessary.
  const lifecycle = new FileLifecycle(
    mocks.files as unknown as FileRepository,
    mocks.transitions as unknown as FileTransitionRepository,
    mocks.storage as unknown as ObjectStorage,
  );
  return { lifecycle, ...mocks };
}

/** Transitions whose guarded update moves the file (`moved`), or finds it elsewhere (null). */
const applying = (moved: FileRecord | null) => strictMock<FileTransitionRepository>('transitions', { apply: async () => moved });
/** Storage whose removals succeed (or fail with `error`), recording what was removed. */
const removing = (error?: Error) =>
  strictMock<ObjectStorage>('storage', {
    abortMultipartUpload: async () => {
      if (error) throw error;
    },
    delete: async () => {
      if (error) throw error;
    },
  });

let warn: jest.SpyInstance;

beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
  warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('FileLifecycle.reread', () => {
  it('answers the file when it is still in the expected status', async () => {
    const file = aFile({ status: 'processing' });
    const { lifecycle, files } = lifecycleWith({ files: strictMock<FileRepository>('files', { find: async () => file }) });
    await expect(lifecycle.reread(file.id, 'processing')).resolves.toEqual({ file });
    expect(files.find).toHaveBeenCalledWith(file.id);
  });

  it('answers the file when it is in one of the expected statuses', async () => {
    const file = aFile({ status: 'uploading' });
    const { lifecycle } = lifecycleWith({ files: strictMock<FileRepository>('files', { find: async () => file }) });
    await expect(lifecycle.reread(file.id, ['pending', 'uploading'])).resolves.toEqual({ file });
  });

  it('skips a file that has moved on, naming its status', async () => {
    const file = aFile({ status: 'ready' });
    const { lifecycle } = lifecycleWith({ files: strictMock<FileRepository>('files', { find: async () => file }) });
    await expect(lifecycle.reread(file.id, ['uploaded', 'processing'])).resolves.toEqual({ skipped: 'skipped:ready' });
  });

  it('skips a file that no longer exists', async () => {
    const { lifecycle } = lifecycleWith({ files: strictMock<FileRepository>('files', { find: async () => null }) });
    await expect(lifecycle.reread('gone', 'processing')).resolves.toEqual({ skipped: 'skipped:missing' });
  });
});

describe('FileLifecycle creation', () => {
  const upload: NewUpload = {
    id: 'f-1',
    tenantId: 't-1',
    ownerId: 'alice',
    filename: 'clip.mp4',
    contentType: 'video/mp4',
    size: 40n * 1024n ** 2n,
    declaredSha256: null,
    storageKey: 'uploads/t-1/f-1',
    mode: 'multipart',
    partSize: 8n * 1024n ** 2n,
    partCount: 5,
    checksumAlgorithm: null,
    metadata: undefined,
    expiresAt: NOW,
  };

  it('creates an upload as pending with its upload.created change', async () => {
    const created = aMultipartUpload({ id: 'f-1', status: 'pending' });
    const transitions = strictMock<FileTransitionRepository>('transitions', { createUpload: async () => created });
    const { lifecycle } = lifecycleWith({ transitions });
    await expect(lifecycle.createUpload(upload)).resolves.toBe(created);
    expect(transitions.createUpload).toHaveBeenCalledTimes(1);
    expect(transitions.createUpload).toHaveBeenCalledWith(upload, 'pending', {
      type: 'upload.created',
      data: { filename: 'clip.mp4', size: 40 * 1024 ** 2, contentType: 'video/mp4', mode: 'multipart' },
    });
  });

  it('answers null when the quota refuses the upload', async () => {
    const transitions = strictMock<FileTransitionRepository>('transitions', { createUpload: async () => null });
    const { lifecycle } = lifecycleWith({ transitions });
    await expect(lifecycle.createUpload(upload)).resolves.toBeNull();
  });

  it('creates an instant copy as ready with upload.created and file.ready changes marked deduplicated', async () => {
    const source = aFileWithVariants({ status: 'ready', size: 2048n, sha256: 'ab'.repeat(32) });
    const copy = { id: 'copy-1', ownerId: 'bob', filename: 'same.jpg', metadata: { album: 'x' } };
    const created = aFile({ id: 'copy-1', status: 'ready' });
    const transitions = strictMock<FileTransitionRepository>('transitions', { createCopy: async () => created });
    const { lifecycle } = lifecycleWith({ transitions });
    await expect(lifecycle.createInstantCopy(source, copy)).resolves.toBe(created);
    const data = { filename: 'same.jpg', size: 2048, deduplicated: true };
    expect(transitions.createCopy).toHaveBeenCalledTimes(1);
    expect(transitions.createCopy).toHaveBeenCalledWith(source, copy, 'ready', [
      { type: 'upload.created', data },
      { type: 'file.ready', data },
    ]);
  });
});

describe('FileLifecycle.startUploading', () => {
  it('writes nothing for an upload already past pending (every signing request after the first)', async () => {
    const transitions = strictMock<FileTransitionRepository>('transitions');
    const lifecycle = new FileLifecycle(strictMock<FileRepository>('files'), transitions, strictMock<ObjectStorage>('storage'));
    await expect(lifecycle.startUploading(aFile({ status: 'uploading' }))).resolves.toBeNull();
  });
});

describe('FileLifecycle steps that only move the file', () => {
  const file = aFile({ id: 'f-1' });
  const facts = { sha256: 'cd'.repeat(32), detectedType: 'image/jpeg', width: 640, height: 480 };

  it.each<[string, (l: FileLifecycle) => Promise<FileRecord | null>, TransitionPlan]>([
    [
      'startUploading',
      (l) => l.startUploading(aFile({ id: 'f-1', status: 'pending' })),
      { fileId: 'f-1', from: ['pending'], to: 'uploading', quota: {}, patch: {}, change: null },
    ],
    ['markCompleting', (l) => l.markCompleting('f-1'), { fileId: 'f-1', from: AWAITING, to: 'completing', quota: {}, patch: {}, change: null }],
    [
      'startProcessing',
      (l) => l.startProcessing('f-1'),
      { fileId: 'f-1', from: ['uploaded'], to: 'processing', quota: {}, patch: {}, change: { type: 'file.processing', data: {} } },
    ],
    [
      'reprocess',
      (l) => l.reprocess('f-1'),
      {
        fileId: 'f-1',
        from: ['ready', 'failed'],
        to: 'processing',
        quota: {},
        patch: { statusReason: 'reprocess' },
        change: { type: 'file.processing', data: { reason: 'reprocess' } },
      },
    ],
    [
      'markReady',
      (l) => l.markReady('f-1', facts, { variants: ['thumb'] }),
      {
        fileId: 'f-1',
        from: ['processing'],
        to: 'ready',
        quota: {},
        patch: { ...facts, readyAt: NOW },
        change: { type: 'file.ready', data: { variants: ['thumb'] } },
      },
    ],
    [
      'fail',
      (l) => l.fail(file, 'ffprobe timed out'),
      {
        fileId: 'f-1',
        from: ['processing'],
        to: 'failed',
        quota: {},
        patch: { statusReason: 'ffprobe timed out' },
        change: { type: 'file.failed', data: { reason: 'ffprobe timed out' } },
      },
    ],
  ])('%s applies its step of the state machine and answers the moved file', async (_name, intent, plan) => {
    const moved = aFile({ id: 'f-1', status: plan.to });
    const { lifecycle, transitions } = lifecycleWith({ transitions: applying(moved) });
    await expect(intent(lifecycle)).resolves.toBe(moved);
    expect(transitions.apply).toHaveBeenCalledTimes(1);
    expect(transitions.apply).toHaveBeenCalledWith(plan);
  });

  it('answers null when the file was not in a status the step leaves', async () => {
    const { lifecycle, transitions } = lifecycleWith({ transitions: applying(null) });
    await expect(lifecycle.startProcessing('f-1')).resolves.toBeNull();
    await expect(lifecycle.fail(file, 'timeout')).resolves.toBeNull();
    expect(transitions.apply).toHaveBeenCalledTimes(2);
    expect(warn).not.toHaveBeenCalled();
  });

  it('logs a failed file', async () => {
    const { lifecycle } = lifecycleWith({ transitions: applying(aFile({ id: 'f-1', status: 'failed' })) });
    await lifecycle.fail(file, 'timeout');
    expect(warn).toHaveBeenCalledWith({ fileId: 'f-1', reason: 'timeout' }, 'file processing failed');
  });
});

describe('FileLifecycle.confirmUploaded', () => {
  it("commits the reserved quota when the reconciler's HEAD confirmed the bytes, and says so", async () => {
    const file = aFile({ id: 'f-1', status: 'completing', size: 4096n, contentType: 'image/png', filename: 'a.png' });
    const moved = aFile({ id: 'f-1', status: 'uploaded' });
    const { lifecycle, transitions } = lifecycleWith({ transitions: applying(moved) });
    await expect(lifecycle.confirmUploaded(file, null)).resolves.toBe(moved);
    expect(transitions.apply).toHaveBeenCalledTimes(1);
    expect(transitions.apply).toHaveBeenCalledWith({
      fileId: 'f-1',
      from: AWAITING,
      to: 'uploaded',
      quota: { pending: 'commit', uploading: 'commit', completing: 'commit' },
      patch: { etag: null, uploadedAt: NOW, statusReason: 'confirmed_by_reconciler' },
      change: { type: 'file.uploaded', data: { size: 4096, contentType: 'image/png', filename: 'a.png' } },
    });
  });
});

describe('FileLifecycle.applyStorageEvents', () => {
  const uploading = aFile({ id: 'f-1', status: 'uploading', size: 4096n, contentType: 'image/png', filename: 'a.png' });
  const multipart = aMultipartUpload({ id: 'f-2', status: 'completing', s3UploadId: 's3-up-2' });
  const ready = aFile({ id: 'f-3', status: 'ready' });
  const event = (fileId: string): StorageEventRecord => ({ eventKey: `uploads/t/${fileId}#ObjectCreated:Put#e`, eventName: 'ObjectCreated:Put', fileId });
  /** Transitions answering `answers` to the batch, in order. */
  const answering = (answers: Array<{ duplicate: boolean; file: FileRecord | null }>) =>
    strictMock<FileTransitionRepository>('transitions', { applyForEvents: async () => answers });

  it("hands the whole batch to one transaction: each event with its finding's plan (or none, only recorded)", async () => {
    const answers = [
      { duplicate: false, file: { ...uploading, status: 'uploaded' as const } },
      { duplicate: false, file: { ...multipart, status: 'rejected' as const } },
      { duplicate: false, file: { ...ready, status: 'deleted' as const } },
      { duplicate: false, file: null },
    ];
    const { lifecycle, transitions } = lifecycleWith({ transitions: answering(answers), storage: removing() });

    await expect(
      lifecycle.applyStorageEvents([
        { event: event('f-1'), finding: { step: 'confirmUploaded', file: uploading, etag: 'etag-1' } },
        { event: event('f-2'), finding: { step: 'rejectUpload', file: multipart, reason: 'size_mismatch' } },
        { event: event('f-3'), finding: { step: 'removedFromStorage', file: ready } },
        { event: event('f-4'), finding: { step: null } },
      ]),
    ).resolves.toEqual(answers);

    expect(transitions.applyForEvents).toHaveBeenCalledTimes(1);
    expect(transitions.applyForEvents).toHaveBeenCalledWith([
      {
        event: event('f-1'),
        plan: {
          fileId: 'f-1',
          from: AWAITING,
          to: 'uploaded',
          quota: { pending: 'commit', uploading: 'commit', completing: 'commit' },
          patch: { etag: 'etag-1', uploadedAt: NOW },
          change: { type: 'file.uploaded', data: { size: 4096, contentType: 'image/png', filename: 'a.png' } },
        },
      },
      {
        event: event('f-2'),
        plan: {
          fileId: 'f-2',
          from: AWAITING,
          to: 'rejected',
          quota: { pending: 'release', uploading: 'release', completing: 'release' },
          patch: { statusReason: 'size_mismatch' },
          change: { type: 'file.rejected', data: { reason: 'size_mismatch' } },
        },
      },
      {
        event: event('f-3'),
        plan: {
          fileId: 'f-3',
          from: ['uploaded', 'processing', 'ready'],
          to: 'deleted',
          quota: { uploaded: 'free', processing: 'free', ready: 'free' },
          patch: { statusReason: 'removed_from_storage', deletedAt: NOW },
          change: { type: 'file.deleted', data: { reason: 'removed_from_storage' } },
        },
      },
      { event: event('f-4'), plan: null },
    ]);
  });

  it('removes the bytes of a rejected upload after the commit', async () => {
    const { lifecycle, transitions, storage } = lifecycleWith({
      transitions: answering([{ duplicate: false, file: { ...multipart, status: 'rejected' } }]),
      storage: removing(),
    });
    await lifecycle.applyStorageEvents([{ event: event('f-2'), finding: { step: 'rejectUpload', file: multipart, reason: 'size_mismatch' } }]);
    expect(storage.abortMultipartUpload).toHaveBeenCalledWith(multipart.storageKey, 's3-up-2');
    expect(storage.delete).toHaveBeenCalledWith(multipart.storageKey);
    expect(transitions.applyForEvents.mock.invocationCallOrder[0]).toBeLessThan(storage.abortMultipartUpload.mock.invocationCallOrder[0]);
    expect(warn).toHaveBeenCalledWith({ fileId: 'f-2', reason: 'size_mismatch' }, 'upload rejected');
  });

  it.each([
    ['a redelivered event', { duplicate: true, file: null }],
    ['a file that had already left the upload states', { duplicate: false, file: null }],
  ])('leaves storage alone for %s', async (_, answer) => {
    const { lifecycle, storage } = lifecycleWith({ transitions: answering([answer]), storage: removing() });
    await expect(
      lifecycle.applyStorageEvents([{ event: event('f-2'), finding: { step: 'rejectUpload', file: multipart, reason: 'size_mismatch' } }]),
    ).resolves.toEqual([answer]);
    expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
    expect(storage.delete).not.toHaveBeenCalled();
  });
});

describe('FileLifecycle steps that end an upload', () => {
  const releaseAll = { pending: 'release', uploading: 'release', completing: 'release' } as const;
  const multipart = aMultipartUpload({ id: 'f-1', status: 'uploading', s3UploadId: 's3-up-1' });
  const single = aFile({ id: 'f-2', status: 'pending' });

  describe('rejectUpload', () => {
    const plan = (fileId: string): TransitionPlan => ({
      fileId,
      from: AWAITING,
      to: 'rejected',
      quota: releaseAll,
      patch: { statusReason: 'size_mismatch' },
      change: { type: 'file.rejected', data: { reason: 'size_mismatch' } },
    });

    it('releases the reservation, then aborts the multipart upload and deletes the object', async () => {
      const moved = { ...multipart, status: 'rejected' as const };
      const { lifecycle, transitions, storage } = lifecycleWith({ transitions: applying(moved), storage: removing() });
      await expect(lifecycle.rejectUpload(multipart, 'size_mismatch')).resolves.toEqual(moved);
      expect(transitions.apply).toHaveBeenCalledWith(plan('f-1'));
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(multipart.storageKey, 's3-up-1');
      expect(storage.delete).toHaveBeenCalledTimes(1);
      expect(storage.delete).toHaveBeenCalledWith(multipart.storageKey);
      // The bytes go only after the step committed.
      expect(transitions.apply.mock.invocationCallOrder[0]).toBeLessThan(storage.abortMultipartUpload.mock.invocationCallOrder[0]);
      expect(warn).toHaveBeenCalledWith({ fileId: 'f-1', reason: 'size_mismatch' }, 'upload rejected');
    });

    it('leaves storage alone when the file had already left the upload states', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: applying(null), storage: removing() });
      await expect(lifecycle.rejectUpload(multipart, 'size_mismatch')).resolves.toBeNull();
      expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
      expect(storage.delete).not.toHaveBeenCalled();
    });
  });

  describe('abort', () => {
    it("releases the reservation of a client's cancel and removes what storage holds of it", async () => {
      const moved = { ...multipart, status: 'aborted' as const };
      const { lifecycle, transitions, storage } = lifecycleWith({ transitions: applying(moved), storage: removing() });
      await expect(lifecycle.abort(multipart, 'aborted_by_client')).resolves.toBe(moved);
      expect(transitions.apply).toHaveBeenCalledWith({
        fileId: 'f-1',
        from: AWAITING,
        to: 'aborted',
        quota: releaseAll,
        patch: { statusReason: 'aborted_by_client' },
        change: { type: 'upload.aborted', data: {} },
      });
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(multipart.storageKey, 's3-up-1');
      expect(storage.delete).toHaveBeenCalledWith(multipart.storageKey);
    });

    it('tells the owner when storage refused to start the upload, deleting only the object of an upload storage never created', async () => {
      const refused = aMultipartUpload({ id: 'f-3', status: 'pending', s3UploadId: null });
      const moved = { ...refused, status: 'aborted' as const };
      const { lifecycle, transitions, storage } = lifecycleWith({ transitions: applying(moved), storage: removing() });
      await expect(lifecycle.abort(refused, 'storage_unavailable')).resolves.toBe(moved);
      expect(transitions.apply).toHaveBeenCalledWith({
        fileId: 'f-3',
        from: AWAITING,
        to: 'aborted',
        quota: releaseAll,
        patch: { statusReason: 'storage_unavailable' },
        change: { type: 'upload.aborted', data: { reason: 'storage_unavailable' } },
      });
      expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
      expect(storage.delete).toHaveBeenCalledWith(refused.storageKey);
    });

    it('leaves storage alone when the upload could not be aborted', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: applying(null), storage: removing() });
      await expect(lifecycle.abort(multipart, 'aborted_by_client')).resolves.toBeNull();
      expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
      expect(storage.delete).not.toHaveBeenCalled();
    });

    it('logs a storage failure after the step instead of failing the abort', async () => {
      const moved = { ...single, status: 'aborted' as const };
      const failure = new Error('S3 down');
      const { lifecycle, storage } = lifecycleWith({ transitions: applying(moved), storage: removing(failure) });
      await expect(lifecycle.abort(single, 'aborted_by_client')).resolves.toBe(moved);
      expect(storage.delete).toHaveBeenCalledWith(single.storageKey);
      expect(warn).toHaveBeenCalledWith({ err: failure, fileId: 'f-2' }, 'storage cleanup failed; the reconciler retries');
    });
  });

  describe('expire', () => {
    it('releases the reservation of an overdue upload and removes what storage holds of it', async () => {
      const moved = { ...single, status: 'expired' as const };
      const { lifecycle, transitions, storage } = lifecycleWith({ transitions: applying(moved), storage: removing() });
      await expect(lifecycle.expire(single)).resolves.toBe(moved);
      expect(transitions.apply).toHaveBeenCalledWith({
        fileId: 'f-2',
        from: AWAITING,
        to: 'expired',
        quota: releaseAll,
        patch: { statusReason: 'deadline_passed' },
        change: { type: 'upload.expired', data: {} },
      });
      expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
      expect(storage.delete).toHaveBeenCalledTimes(1);
      expect(storage.delete).toHaveBeenCalledWith(single.storageKey);
    });

    it('aborts the multipart upload of an expired multipart upload too', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: applying({ ...multipart, status: 'expired' }), storage: removing() });
      await lifecycle.expire(multipart);
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(multipart.storageKey, 's3-up-1');
      expect(storage.delete).toHaveBeenCalledWith(multipart.storageKey);
    });

    it('leaves storage alone when the upload had already moved on', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: applying(null), storage: removing() });
      await expect(lifecycle.expire(multipart)).resolves.toBeNull();
      expect(storage.abortMultipartUpload).not.toHaveBeenCalled();
      expect(storage.delete).not.toHaveBeenCalled();
    });

    it('logs a storage failure after the step instead of failing the expiry', async () => {
      const failure = new Error('S3 down');
      const moved = { ...multipart, status: 'expired' as const };
      const { lifecycle, storage } = lifecycleWith({ transitions: applying(moved), storage: removing(failure) });
      await expect(lifecycle.expire(multipart)).resolves.toBe(moved);
      expect(storage.abortMultipartUpload).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith({ err: failure, fileId: 'f-1' }, 'storage cleanup failed; the reconciler retries');
    });
  });
});

describe('FileLifecycle steps that release stored objects', () => {
  const file = aFile({ id: 'f-1', status: 'processing', storageKey: 'uploads/t/f-1' });
  const releasing = (answer: { file: FileRecord; orphanKeys: string[] } | null) =>
    strictMock<FileTransitionRepository>('transitions', { applyAndRelease: async () => answer });
  const deleting = (fail?: string) =>
    strictMock<ObjectStorage>('storage', {
      delete: async (key) => {
        if (key === fail) throw new Error(`cannot delete ${key}`);
      },
    });

  describe('rejectContent', () => {
    const facts = { detectedType: 'application/pdf' };
    const plan: TransitionPlan = {
      fileId: 'f-1',
      from: ['processing'],
      to: 'rejected',
      quota: { processing: 'free' },
      patch: { detectedType: 'application/pdf', statusReason: 'type_mismatch' },
      change: { type: 'file.rejected', data: { reason: 'type_mismatch' } },
    };

    it('frees the quota and deletes exactly the objects no live file uses any more', async () => {
      const moved = { ...file, status: 'rejected' as const };
      const transitions = releasing({ file: moved, orphanKeys: ['uploads/t/f-1', 'variants/t/f-1/thumb'] });
      const { lifecycle, storage } = lifecycleWith({ transitions, storage: deleting() });
      await expect(lifecycle.rejectContent(file, 'type_mismatch', facts)).resolves.toBe(moved);
      expect(transitions.applyAndRelease).toHaveBeenCalledTimes(1);
      expect(transitions.applyAndRelease).toHaveBeenCalledWith(plan, LIVE);
      expect(storage.delete.mock.calls).toEqual([['uploads/t/f-1'], ['variants/t/f-1/thumb']]);
      expect(warn).toHaveBeenCalledWith({ fileId: 'f-1', reason: 'type_mismatch' }, 'file rejected by processing');
    });

    it('keeps objects an instant-upload copy still uses', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: releasing({ file: { ...file, status: 'rejected' }, orphanKeys: [] }), storage: deleting() });
      await lifecycle.rejectContent(file, 'type_mismatch', facts);
      expect(storage.delete).not.toHaveBeenCalled();
    });

    it('answers null and deletes nothing when the file was no longer processing', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: releasing(null), storage: deleting() });
      await expect(lifecycle.rejectContent(file, 'type_mismatch', facts)).resolves.toBeNull();
      expect(storage.delete).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    });

    it('records only the reason when processing found no facts', async () => {
      const transitions = releasing(null);
      const { lifecycle } = lifecycleWith({ transitions });
      await lifecycle.rejectContent(file, 'undecodable');
      expect(transitions.applyAndRelease).toHaveBeenCalledWith(
        { ...plan, patch: { statusReason: 'undecodable' }, change: { type: 'file.rejected', data: { reason: 'undecodable' } } },
        LIVE,
      );
    });
  });

  describe('delete', () => {
    const ready = aFile({ id: 'f-1', status: 'ready', storageKey: 'uploads/t/f-1' });
    const plan: TransitionPlan = {
      fileId: 'f-1',
      from: ['uploaded', 'processing', 'ready', 'failed', 'rejected'],
      to: 'deleted',
      quota: { uploaded: 'free', processing: 'free', ready: 'free', failed: 'free' },
      patch: { deletedAt: NOW, statusReason: 'deleted_by_owner' },
      change: { type: 'file.deleted', data: {} },
    };

    it("frees the quota and deletes exactly the orphaned objects of the owner's file", async () => {
      const moved = { ...ready, status: 'deleted' as const };
      const transitions = releasing({ file: moved, orphanKeys: ['variants/t/f-1/thumb'] });
      const { lifecycle, storage } = lifecycleWith({ transitions, storage: deleting() });
      await expect(lifecycle.delete(ready)).resolves.toBe(moved);
      expect(transitions.applyAndRelease).toHaveBeenCalledTimes(1);
      expect(transitions.applyAndRelease).toHaveBeenCalledWith(plan, LIVE);
      expect(storage.delete.mock.calls).toEqual([['variants/t/f-1/thumb']]);
    });

    it('answers null and deletes nothing when the file could not be deleted', async () => {
      const { lifecycle, storage } = lifecycleWith({ transitions: releasing(null), storage: deleting() });
      await expect(lifecycle.delete(ready)).resolves.toBeNull();
      expect(storage.delete).not.toHaveBeenCalled();
    });

    it('logs a failed object deletion instead of failing the committed step', async () => {
      const moved = { ...ready, status: 'deleted' as const };
      const transitions = releasing({ file: moved, orphanKeys: ['uploads/t/f-1', 'variants/t/f-1/thumb'] });
      const { lifecycle, storage } = lifecycleWith({ transitions, storage: deleting('uploads/t/f-1') });
      await expect(lifecycle.delete(ready)).resolves.toBe(moved);
      expect(storage.delete).toHaveBeenCalledTimes(2);
      expect(warn).toHaveBeenCalledWith(
        { err: expect.objectContaining({ message: 'cannot delete uploads/t/f-1' }), fileId: 'f-1' },
        'storage cleanup after the step failed; left to the reconciler',
      );
    });
  });
});

describe('FileLifecycle.contentChanged', () => {
  it('fails the file and takes every instant-upload copy sharing its object out of ready too', async () => {
    const source = aFile({ status: 'processing', sha256: 'a' });
    const copy = aFile({ status: 'ready', storageKey: source.storageKey });
    const files = strictMock<FileRepository>('files', { findSharingObject: async () => [copy] });
    const { lifecycle, transitions } = lifecycleWith({ files, transitions: applying(source) });

    await lifecycle.contentChanged(source);
    expect(files.findSharingObject).toHaveBeenCalledWith(source.storageKey, source.id, ['uploaded', 'processing', 'ready', 'failed']);
    const plans = transitions.apply.mock.calls.map(([plan]: [TransitionPlan]) => [plan.fileId, plan.to, plan.patch.statusReason]);
    expect(plans).toEqual([
      [source.id, 'failed', 'content_changed'],
      [copy.id, 'processing', 'object_rewritten'],
      [copy.id, 'failed', 'content_changed'],
    ]);
  });
});
