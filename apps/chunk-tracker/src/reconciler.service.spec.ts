import { Logger } from '@nestjs/common';
import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileRepository } from '@app/database';
import { AWAITING_BYTES, type FileLifecycle } from '@app/lifecycle';
import type { JobQueue } from '@app/queue';
import { KeyLayout, type ObjectHead, type ObjectStorage, type PendingMultipartUpload } from '@app/storage';
import { aFile, aMultipartUpload, strictMock, callsInOrder } from '@app/testing';
import type { TrackerConfig } from './config';
import { ReconcilerService } from './reconciler.service';

const STUCK_MS = 600_000;
const ORPHAN_MIN_AGE_MS = 3_600_000;
/** The start of stuck period number 2,991,000 (job ids of re-drives carry the period's number). */
const PERIOD = 2_991_000;
const now = new Date(PERIOD * STUCK_MS + 1);
const ago = (ms: number) => new Date(now.getTime() - ms);
const headOf = (size: number, etag = 'etag-1'): ObjectHead => ({ size, etag, contentType: null, lastModified: null });

/**
 * A reconciler whose adapters are strict mocks, over a database holding `byId` (and `overdue` and
 * `stuck` files by status) and a bucket holding the multipart uploads `pending`.
 */
function setup(
  world: {
    overdue?: FileRecord[];
    stuck?: Partial<Record<FileStatusName, FileRecord[]>>;
    pending?: PendingMultipartUpload[];
    pageSize?: number;
    byId?: FileRecord[];
    /** Files the storage audit visits next: idle uploads taking parts, and stored files. */
    audit?: { uploads?: FileRecord[]; stored?: FileRecord[] };
    auditBatch?: number;
  } = {},
) {
  const files = strictMock<FileRepository>('files', {
    findOverdue: async () => world.overdue ?? [],
    findStuck: async (status) => world.stuck?.[status] ?? [],
    findMany: async (ids) => world.byId?.filter((f) => ids.includes(f.id)) ?? [],
    dueForStorageAudit: async (statuses) => (statuses.includes('ready') ? (world.audit?.stored ?? []) : (world.audit?.uploads ?? [])),
    markStorageChecked: async () => undefined,
  });
  const storage = strictMock<ObjectStorage>('storage', {
    // Storage's listing in pages of `pageSize` (ListMultipartUploads answers up to 1,000 a page).
    multipartUploadPages: async function* () {
      const pending = world.pending ?? [];
      for (let i = 0; i < pending.length; i += world.pageSize ?? 1000) yield pending.slice(i, i + (world.pageSize ?? 1000));
    },
    abortMultipartUpload: async () => undefined,
    head: async () => null,
    hasMultipartUpload: async () => true,
  });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    expire: async (file) => ({ ...file, status: 'expired' }),
    confirmUploaded: async (file) => ({ ...file, status: 'uploaded' }),
    objectVanished: async (file) => ({ ...file, status: 'deleted' }),
    uploadLost: async (file) => ({ ...file, status: 'aborted' }),
  });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  const service = new ReconcilerService(
    files,
    storage,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    lifecycle,
    jobs,
    strictMock<TrackerConfig>('config', {
      RECONCILE_STUCK_SECONDS: STUCK_MS / 1000,
      ORPHAN_UPLOAD_MIN_AGE_SECONDS: ORPHAN_MIN_AGE_MS / 1000,
      RECONCILE_BATCH_SIZE: 200,
      STORAGE_AUDIT_BATCH_SIZE: world.auditBatch ?? 100,
      STORAGE_AUDIT_INTERVAL_SECONDS: 86_400,
    }),
  );
  const mocks = { files, storage, lifecycle, jobs };
  /** Every adapter call, in order: a test states all the effects it allows. */
  const effects = () => callsInOrder(mocks).map(([call]) => call);
  return { service, ...mocks, effects };
}

/** A multipart upload storage holds for `file`, initiated `age` ms before now. */
const pendingFor = (file: Pick<FileRecord, 'storageKey'>, uploadId: string, age = ORPHAN_MIN_AGE_MS): PendingMultipartUpload => ({
  key: file.storageKey,
  uploadId,
  initiated: ago(age),
});

describe('ReconcilerService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.useRealTimers());

  describe('expireOverdue', () => {
    it('expires every upload past its deadline, counting only those the lifecycle moved', async () => {
      const overdue = [aFile({ status: 'pending' }), aMultipartUpload({ status: 'uploading' }), aFile({ status: 'completing' })];
      const { service, files, lifecycle, effects } = setup({ overdue });
      // The second one was confirmed by its event between the query and the step.
      lifecycle.expire.mockImplementation(async (file) => (file === overdue[1] ? null : { ...file, status: 'expired' }));

      expect(await service.expireOverdue(now)).toBe(2);
      expect(files.findOverdue).toHaveBeenCalledWith(AWAITING_BYTES, now, 200);
      expect(lifecycle.expire.mock.calls).toEqual([[overdue[0]], [overdue[1]], [overdue[2]]]);
      expect(effects()).toEqual(['files.findOverdue', 'lifecycle.expire', 'lifecycle.expire', 'lifecycle.expire']);
    });

    it('works through a backlog larger than a batch in one run, a batch at a time', async () => {
      const backlog = Array.from({ length: 450 }, () => aFile({ status: 'pending' }));
      const { service, files } = setup();
      files.findOverdue.mockImplementation(async (_statuses, _now, limit) => backlog.splice(0, limit));

      expect(await service.expireOverdue(now)).toBe(450);
      expect(files.findOverdue.mock.calls.map((c) => c[2])).toEqual([200, 200, 200]);
    });

    it('stops when a whole batch moved nothing (someone else is moving those rows), never spinning', async () => {
      const stuck = Array.from({ length: 200 }, () => aFile({ status: 'pending' }));
      const { service, files, lifecycle } = setup({ overdue: stuck });
      lifecycle.expire.mockImplementation(async () => null);

      expect(await service.expireOverdue(now)).toBe(0);
      expect(files.findOverdue).toHaveBeenCalledTimes(1);
    });

    it('expires nothing when no upload is overdue', async () => {
      const { service, effects } = setup();

      expect(await service.expireOverdue(now)).toBe(0);
      expect(effects()).toEqual(['files.findOverdue']);
    });
  });

  describe('abortOrphans', () => {
    it.each([
      [
        'a key this platform did not issue',
        { key: 'uploads/stray-upload.bin', uploadId: 'u-stray', initiated: ago(ORPHAN_MIN_AGE_MS) },
        ['storage.multipartUploadPages', 'storage.abortMultipartUpload'],
      ],
      ['a key whose file does not exist', pendingFor(aFile(), 'u-1'), ['storage.multipartUploadPages', 'files.findMany', 'storage.abortMultipartUpload']],
    ])('aborts a multipart upload as old as the grace period under %s', async (_, upload, expected) => {
      const { service, storage, effects } = setup({ pending: [upload] });

      expect(await service.abortOrphans(now)).toBe(1);
      expect(storage.multipartUploadPages).toHaveBeenCalledWith('uploads/');
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(upload.key, upload.uploadId);
      expect(effects()).toEqual(expected);
    });

    it.each(['uploaded', 'processing', 'ready', 'failed', 'rejected', 'aborted', 'expired', 'deleted'] as const)(
      'aborts an old multipart upload whose file is %s, even under its recorded upload id',
      async (status) => {
        const file = aMultipartUpload({ status, s3UploadId: 'u-1' });
        const { service, files, storage, effects } = setup({ pending: [pendingFor(file, 'u-1')], byId: [file] });

        expect(await service.abortOrphans(now)).toBe(1);
        expect(files.findMany).toHaveBeenCalledWith([file.id]);
        expect(storage.abortMultipartUpload).toHaveBeenCalledWith(file.storageKey, 'u-1');
        expect(effects()).toEqual(['storage.multipartUploadPages', 'files.findMany', 'storage.abortMultipartUpload']);
      },
    );

    it('aborts an old multipart upload of a live upload that recorded another upload id (a superseded initiation)', async () => {
      const file = aMultipartUpload({ status: 'uploading', s3UploadId: 'u-current' });
      const { service, storage } = setup({ pending: [pendingFor(file, 'u-superseded'), pendingFor(file, 'u-current')], byId: [file] });

      expect(await service.abortOrphans(now)).toBe(1);
      expect(storage.abortMultipartUpload.mock.calls).toEqual([[file.storageKey, 'u-superseded']]);
    });

    it.each(AWAITING_BYTES)('leaves the multipart upload of a live %s upload alone', async (status) => {
      const file = aMultipartUpload({ status, s3UploadId: 'u-1' });
      const { service, effects } = setup({ pending: [pendingFor(file, 'u-1')], byId: [file] });

      expect(await service.abortOrphans(now)).toBe(0);
      expect(effects()).toEqual(['storage.multipartUploadPages', 'files.findMany']);
    });

    it('leaves alone a multipart upload whose live row is written but whose upload id is not recorded yet', async () => {
      const file = aMultipartUpload({ status: 'pending', s3UploadId: null });
      const { service, effects } = setup({ pending: [pendingFor(file, 'u-1')], byId: [file] });

      expect(await service.abortOrphans(now)).toBe(0);
      expect(effects()).toEqual(['storage.multipartUploadPages', 'files.findMany']);
    });

    it('aborts an upload without a recorded id once its file is no longer live', async () => {
      const file = aMultipartUpload({ status: 'aborted', s3UploadId: null });
      const { service, storage } = setup({ pending: [pendingFor(file, 'u-1')], byId: [file] });

      expect(await service.abortOrphans(now)).toBe(1);
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(file.storageKey, 'u-1');
    });

    it("reads storage's listing a page at a time, with one query for the files of each page", async () => {
      const live = Array.from({ length: 5 }, () => aMultipartUpload({ status: 'uploading', s3UploadId: null }));
      const pending = live.map((f, i) => pendingFor(f, `u-${i}`));
      const { service, files, effects } = setup({ pending, pageSize: 2, byId: live });

      expect(await service.abortOrphans(now)).toBe(0);
      expect(files.findMany.mock.calls).toEqual([[[live[0].id, live[1].id]], [[live[2].id, live[3].id]], [[live[4].id]]]);
      expect(effects()).toEqual(['storage.multipartUploadPages', 'files.findMany', 'files.findMany', 'files.findMany']);
    });

    it('does not look at a multipart upload a millisecond younger than the grace period (its initiation may be in progress)', async () => {
      const orphan = aFile(); // no row at all: it would be aborted if it were old enough
      const { service, effects } = setup({ pending: [pendingFor(orphan, 'u-young', ORPHAN_MIN_AGE_MS - 1)] });

      expect(await service.abortOrphans(now)).toBe(0);
      expect(effects()).toEqual(['storage.multipartUploadPages']);
    });

    it('judges an upload whose initiation time storage does not report by its owner alone', async () => {
      const orphan = aFile();
      const { service, storage } = setup({ pending: [{ key: orphan.storageKey, uploadId: 'u-1', initiated: null }] });

      expect(await service.abortOrphans(now)).toBe(1);
      expect(storage.abortMultipartUpload).toHaveBeenCalledWith(orphan.storageKey, 'u-1');
    });
  });

  describe('redriveStuck', () => {
    it('confirms an upload stuck in completing when HEAD shows storage holds its full size, then queues its verification', async () => {
      const file = aMultipartUpload({ status: 'completing' });
      const { service, files, storage, lifecycle, jobs, effects } = setup({ stuck: { completing: [file] } });
      storage.head.mockResolvedValueOnce(headOf(Number(file.size), 'etag-from-head'));

      expect(await service.redriveStuck(now)).toEqual({ redriven: 0, confirmed: 1 });
      expect(files.findStuck).toHaveBeenCalledWith('completing', ago(STUCK_MS), 200);
      expect(storage.head).toHaveBeenCalledWith(file.storageKey);
      expect(lifecycle.confirmUploaded).toHaveBeenCalledWith(file, 'etag-from-head');
      expect(jobs.enqueue).toHaveBeenCalledWith('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}` });
      expect(effects()).toEqual(['files.findStuck', 'storage.head', 'lifecycle.confirmUploaded', 'jobs.enqueue', 'files.findStuck', 'files.findStuck']);
    });

    it('queues no verification when the lifecycle finds the file already moved on (its event won the race)', async () => {
      const file = aMultipartUpload({ status: 'completing' });
      const { service, storage, lifecycle, effects } = setup({ stuck: { completing: [file] } });
      storage.head.mockResolvedValueOnce(headOf(Number(file.size)));
      lifecycle.confirmUploaded.mockResolvedValueOnce(null);

      expect(await service.redriveStuck(now)).toEqual({ redriven: 0, confirmed: 0 });
      expect(effects()).toEqual(['files.findStuck', 'storage.head', 'lifecycle.confirmUploaded', 'files.findStuck', 'files.findStuck']);
    });

    it('completes again an upload stuck in completing while storage holds no object yet, under a job id of the stuck period', async () => {
      const file = aMultipartUpload({ status: 'completing' });
      const { service, jobs, effects } = setup({ stuck: { completing: [file] } });

      expect(await service.redriveStuck(now)).toEqual({ redriven: 1, confirmed: 0 });
      expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: file.id }, { jobId: `complete-${file.id}-r${PERIOD}` });
      expect(effects()).toEqual(['files.findStuck', 'storage.head', 'jobs.enqueue', 'files.findStuck', 'files.findStuck']);
    });

    it('never confirms (nor rejects) on a HEAD showing another size than declared: the upload is completed again', async () => {
      const file = aFile({ status: 'completing', size: 1024n });
      const { service, storage, jobs, effects } = setup({ stuck: { completing: [file] } });
      storage.head.mockResolvedValueOnce(headOf(1023));

      expect(await service.redriveStuck(now)).toEqual({ redriven: 1, confirmed: 0 });
      expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: file.id }, { jobId: `complete-${file.id}-r${PERIOD}` });
      expect(effects()).toEqual(['files.findStuck', 'storage.head', 'jobs.enqueue', 'files.findStuck', 'files.findStuck']);
    });

    it('re-drives a stuck upload once per stuck period: runs within a period share the job id, the next period gets a new one', async () => {
      const file = aMultipartUpload({ status: 'completing' });
      const { service, jobs } = setup({ stuck: { completing: [file] } });
      const periodStart = PERIOD * STUCK_MS;

      for (const at of [periodStart, periodStart + STUCK_MS - 1, periodStart + STUCK_MS]) await service.redriveStuck(new Date(at));

      expect(jobs.enqueue.mock.calls.map(([, , options]) => options?.jobId)).toEqual([
        `complete-${file.id}-r${PERIOD}`,
        `complete-${file.id}-r${PERIOD}`,
        `complete-${file.id}-r${PERIOD + 1}`,
      ]);
    });

    it('queues verification again, under a job id of the stuck period, for files stuck in uploaded or processing', async () => {
      const uploaded = aFile({ status: 'uploaded' });
      const processing = [aFile({ status: 'processing' }), aFile({ status: 'processing' })];
      const { service, files, jobs, effects } = setup({ stuck: { uploaded: [uploaded], processing } });

      expect(await service.redriveStuck(now)).toEqual({ redriven: 3, confirmed: 0 });
      expect(files.findStuck.mock.calls).toEqual([
        ['completing', ago(STUCK_MS), 200],
        ['uploaded', ago(STUCK_MS), 200],
        ['processing', ago(STUCK_MS), 200],
      ]);
      expect(jobs.enqueue.mock.calls).toEqual(
        [uploaded, ...processing].map((f) => ['media.verify', { v: 1, fileId: f.id }, { jobId: `verify-${f.id}-r${PERIOD}` }]),
      );
      expect(effects()).toEqual(['files.findStuck', 'files.findStuck', 'jobs.enqueue', 'files.findStuck', 'jobs.enqueue', 'jobs.enqueue']);
    });
  });

  describe('auditStorage', () => {
    it('ends a stored file whose object is gone and an idle upload whose multipart upload is lost, and marks every file asked', async () => {
      const gone = aFile({ status: 'ready' });
      const kept = aFile({ status: 'ready' });
      const lostUpload = aMultipartUpload({ status: 'uploading', s3UploadId: 'lost-1' });
      const liveUpload = aMultipartUpload({ status: 'pending', s3UploadId: 'live-1' });
      const single = aFile({ status: 'pending' });
      const { service, files, storage, lifecycle } = setup({ audit: { uploads: [lostUpload, liveUpload, single], stored: [gone, kept] } });
      storage.head.mockImplementation(async (key) => (key === kept.storageKey ? headOf(Number(kept.size)) : null));
      storage.hasMultipartUpload.mockImplementation(async (_, uploadId) => uploadId !== 'lost-1');

      expect(await service.auditStorage(now)).toEqual({ vanished: 1, lost: 1 });
      expect(lifecycle.objectVanished).toHaveBeenCalledWith(gone);
      expect(lifecycle.uploadLost).toHaveBeenCalledWith(lostUpload);
      expect(lifecycle.objectVanished).toHaveBeenCalledTimes(1);
      expect(lifecycle.uploadLost).toHaveBeenCalledTimes(1);
      // A single PUT has no multipart upload to ask about; it is still marked asked.
      expect(storage.hasMultipartUpload).toHaveBeenCalledTimes(2);
      expect(files.markStorageChecked).toHaveBeenCalledWith([lostUpload.id, liveUpload.id, single.id, gone.id, kept.id]);
    });

    it('asks about idle uploads every stuck period and stored files every audit interval, settled files only, within one batch', async () => {
      const { service, files } = setup({ audit: { uploads: [aMultipartUpload({ status: 'uploading', s3UploadId: 'u' })] }, auditBatch: 10 });

      await service.auditStorage(now);
      expect(files.dueForStorageAudit).toHaveBeenNthCalledWith(1, ['pending', 'uploading'], ago(STUCK_MS), ago(STUCK_MS), 10);
      expect(files.dueForStorageAudit).toHaveBeenNthCalledWith(2, ['uploaded', 'processing', 'ready'], ago(86_400_000), ago(STUCK_MS), 9);
    });

    it('does nothing when turned off (STORAGE_AUDIT_BATCH_SIZE=0)', async () => {
      const { service, effects } = setup({ auditBatch: 0 });
      expect(await service.auditStorage(now)).toEqual({ vanished: 0, lost: 0 });
      expect(effects()).toEqual([]);
    });
  });

  describe('reconcile', () => {
    it('reports nothing done when database and storage agree', async () => {
      const { service, effects } = setup();

      expect(await service.reconcile()).toEqual({ expired: 0, orphansAborted: 0, redriven: 0, confirmed: 0, vanished: 0, lost: 0 });
      expect(effects()).toEqual([
        'files.findOverdue',
        'storage.multipartUploadPages',
        'files.findStuck',
        'files.findStuck',
        'files.findStuck',
        'files.dueForStorageAudit',
        'files.dueForStorageAudit',
        'files.markStorageChecked',
      ]);
    });

    it('expires, aborts orphans and re-drives in one run on the current clock, reporting each count', async () => {
      jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const confirmedUpload = aFile({ status: 'completing' });
      const redrivenUpload = aMultipartUpload({ status: 'completing' });
      const orphan = aMultipartUpload({ status: 'expired' });
      const { service, files, storage, jobs } = setup({
        overdue: [aFile({ status: 'pending' })],
        pending: [pendingFor(orphan, 'u-1'), pendingFor(aFile(), 'u-young', ORPHAN_MIN_AGE_MS - 1)],
        byId: [orphan],
        stuck: { completing: [confirmedUpload, redrivenUpload], processing: [aFile({ status: 'processing' })] },
      });
      storage.head.mockImplementation(async (key) => (key === confirmedUpload.storageKey ? headOf(Number(confirmedUpload.size)) : null));

      expect(await service.reconcile()).toEqual({ expired: 1, orphansAborted: 1, redriven: 2, confirmed: 1, vanished: 0, lost: 0 });
      expect(files.findOverdue).toHaveBeenCalledWith(AWAITING_BYTES, now, 200);
      expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: redrivenUpload.id }, { jobId: `complete-${redrivenUpload.id}-r${PERIOD}` });
    });
  });
});
