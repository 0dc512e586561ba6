import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileRepository, StorageEventRecord } from '@app/database';
import type { StorageEvent } from '@app/domain';
import type { EventStep, FileLifecycle, StorageFinding } from '@app/lifecycle';
import { Logger } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import type { JobQueue } from '@app/queue';
import { KeyLayout, type ObjectHead, type ObjectStorage, type StorageEventMessage } from '@app/storage';
import { aFile, anS3Event, strictMock, callsInOrder } from '@app/testing';
import type { TrackerConfig } from './config';
import { StorageEventsService } from './storage-events.service';

const headOf = (size: number, etag = 'etag-1'): ObjectHead => ({ size, etag, contentType: null, lastModified: null });
/** The ledger row the service writes for `event` (its key is stable across SQS redeliveries). */
const recordOf = (file: FileRecord, event: StorageEvent): StorageEventRecord => ({
  eventKey: `uploads/${file.storageKey}#${event.eventName}#${event.sequencer ?? event.etag}`,
  eventName: event.eventName,
  fileId: file.id,
});
let messageIds = 0;
/** One SQS message carrying `events`. */
const message = (...events: StorageEvent[]): StorageEventMessage => ({ events, context: { messageId: `m-${++messageIds}`, receiveCount: 1 } });
const TARGET: Record<NonNullable<StorageFinding['step']>, FileStatusName> = {
  confirmUploaded: 'uploaded',
  rejectUpload: 'rejected',
  removedFromStorage: 'deleted',
  recheck: 'processing',
};

/**
 * A tracker whose adapters are strict mocks: by default the database holds `files`, storage holds
 * each file's declared size (or `head`), and every step the lifecycle is asked for moves its file.
 */
function setup(files: FileRecord[], opts: { head?: ObjectHead | null; declareSize?: FileLifecycle['declareSize'] } = {}) {
  const fileRepo = strictMock<FileRepository>('files', { findMany: async (ids) => files.filter((f) => ids.includes(f.id)) });
  const storage = strictMock<ObjectStorage>('storage', {
    head: async (key) => (opts.head === undefined ? headOf(Number(files.find((f) => f.storageKey === key)?.size)) : opts.head),
  });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    ...(opts.declareSize ? { declareSize: opts.declareSize } : {}),
    applyStorageEvents: async (batch) =>
      batch.map(({ finding }): EventStep => ({ duplicate: false, file: finding.step ? { ...finding.file, status: TARGET[finding.step] } : null })),
  });
  const jobs = strictMock<JobQueue>('jobs', { enqueueMany: async () => undefined });
  const metrics = new MetricsService('test');
  const service = new StorageEventsService(
    fileRepo,
    storage,
    lifecycle,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    jobs,
    strictMock<TrackerConfig>('config', { S3_BUCKET: 'uploads' }),
    metrics,
  );
  const mocks = { files: fileRepo, storage, lifecycle, jobs };
  /** Every adapter call, in order: a test states all the effects it allows. */
  const effects = () => callsInOrder(mocks).map(([call]) => call);
  /** What the lifecycle was asked to commit, per call: each event's record and finding. */
  const committed = () => lifecycle.applyStorageEvents.mock.calls.map(([batch]) => batch);
  /** How many events ended with each outcome (the counter is the service's only report of one). */
  const outcomes = async () => {
    const { values } = await metrics.registry.getSingleMetric('storage_events_total')!.get();
    return Object.fromEntries(values.map((v) => [`${v.labels.event} ${v.labels.outcome}`, v.value]));
  };
  return { service, ...mocks, effects, committed, outcomes };
}

describe('StorageEventsService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('an object created for an upload of unknown size (a form POST through /companion)', () => {
    const unsized = () => aFile({ status: 'pending', size: 0n, sizeDeclared: false });

    it("takes storage's HEAD as the size (declared and charged by the lifecycle), then confirms the sized file", async () => {
      const file = unsized();
      const sized = { ...file, size: 3000n, sizeDeclared: true };
      const declareSize = jest.fn(async () => sized);
      const { service, effects, committed, outcomes } = setup([file], { head: headOf(3000, 'etag-post'), declareSize });

      const event = anS3Event(file, { size: 3000 });
      await service.handleBatch([message(event)]);

      expect(declareSize).toHaveBeenCalledWith(file, 3000);
      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: 'confirmUploaded', file: sized, etag: 'etag-post' } }]]);
      expect(effects()).toEqual(['files.findMany', 'storage.head', 'lifecycle.declareSize', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1 });
    });

    it("rejects it when the bytes do not fit the tenant's quota (nothing was charged)", async () => {
      const file = unsized();
      const { service, committed } = setup([file], { head: headOf(5000), declareSize: async () => 'quota_exceeded' });

      await service.handleBatch([message(anS3Event(file, { size: 5000 }))]);

      expect(committed()[0][0].finding).toEqual({ step: 'rejectUpload', file, reason: "quota_exceeded: 5000 bytes exceed the tenant's storage quota" });
    });

    it('only records the event when the upload moved on meanwhile (aborted)', async () => {
      const file = unsized();
      const { service, committed } = setup([file], { head: headOf(10), declareSize: async () => ({ ...file, status: 'aborted' }) });

      await service.handleBatch([message(anS3Event(file, { size: 10 }))]);

      expect(committed()[0][0].finding).toEqual({ step: null });
    });
  });

  describe('an object created for an upload awaiting its bytes', () => {
    it.each([
      ['pending', 'ObjectCreated:Put'],
      ['uploading', 'ObjectCreated:Put'],
      ['completing', 'ObjectCreated:CompleteMultipartUpload'],
    ] as const)(
      'confirms an upload in %s when HEAD shows the declared size, witnessed by the %s event, then queues its verification',
      async (status, eventName) => {
        const file = aFile({ status, size: 1024n });
        const event = anS3Event(file, { eventName });
        const { service, jobs, effects, committed, outcomes } = setup([file], { head: headOf(1024, 'etag-from-head') });

        const batch = [message(event)];
        await expect(service.handleBatch(batch)).resolves.toEqual(batch);

        expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: 'confirmUploaded', file, etag: 'etag-from-head' } }]]);
        expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', [{ payload: { v: 1, fileId: file.id }, jobId: `verify-${file.id}` }]);
        expect(effects()).toEqual(['files.findMany', 'storage.head', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
        expect(await outcomes()).toEqual({ [`${eventName} uploaded`]: 1 });
      },
    );

    it("takes storage's HEAD, not the event's size, as the witness: another size than declared rejects the upload with the reason", async () => {
      const file = aFile({ status: 'uploading', size: 1024n });
      const event = anS3Event(file, { size: 1024 }); // the event claims the declared size; storage holds more
      const { service, jobs, committed, outcomes } = setup([file], { head: headOf(1025) });

      await service.handleBatch([message(event)]);

      // Removing the object and releasing the quota are the lifecycle's part of the step; nothing is verified.
      expect(committed()).toEqual([
        [{ event: recordOf(file, event), finding: { step: 'rejectUpload', file, reason: 'size_mismatch: storage holds 1025 bytes, 1024 were declared' } }],
      ]);
      expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', []);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put rejected': 1 });
    });

    it('confirms an upload whose event reports a stale size when HEAD shows the declared one', async () => {
      const file = aFile({ status: 'pending', size: 1024n });
      const { service, committed, outcomes } = setup([file], { head: headOf(1024) });

      await service.handleBatch([message(anS3Event(file, { size: 7 }))]);

      expect(committed()[0][0].finding.step).toBe('confirmUploaded');
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1 });
    });

    it('only records the event when storage no longer holds the object (removed again since)', async () => {
      const file = aFile({ status: 'pending' });
      const event = anS3Event(file);
      const { service, committed, outcomes } = setup([file], { head: null });

      await service.handleBatch([message(event)]);

      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: null } }]]);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
    });

    it.each(['confirmUploaded', 'rejectUpload'] as const)('reports a %s the file had already left as recorded, and queues nothing', async (step) => {
      const file = aFile({ status: 'pending', size: 1024n });
      const { service, lifecycle, jobs, outcomes } = setup([file], { head: headOf(step === 'confirmUploaded' ? 1024 : 1) });
      lifecycle.applyStorageEvents.mockResolvedValueOnce([{ duplicate: false, file: null }]);

      await service.handleBatch([message(anS3Event(file))]);

      expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', []);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
    });
  });

  it('counts an event the ledger had recorded before (a redelivery) as a duplicate, and queues nothing', async () => {
    const file = aFile({ status: 'pending' });
    const { service, lifecycle, jobs, outcomes } = setup([file]);
    lifecycle.applyStorageEvents.mockResolvedValueOnce([{ duplicate: true, file: null }]);

    await service.handleBatch([message(anS3Event(file))]);

    expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', []);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put duplicate': 1 });
  });

  describe('an object created again for a file already stored (issue #11)', () => {
    /** The verification job a recheck queues: one id per rewrite event, never the first verification's. */
    const recheckJob = (file: FileRecord) => ({
      payload: { v: 1, fileId: file.id },
      jobId: expect.stringMatching(new RegExp(`^verify-${file.id}-[0-9a-f]{16}$`)),
    });

    it.each([
      ['multipart', 'uploaded'],
      ['multipart', 'processing'],
      ['multipart', 'ready'],
      ['multipart', 'failed'],
      ['single', 'uploaded'],
    ] as const)('only records the write it already knows (same size and ETag) for a %s file that is %s, without asking storage', async (mode, status) => {
      const file = aFile({ mode, status, size: 1024n, etag: 'etag-1' });
      // The second event of a multipart completion, or a single PUT's event heard again before verification.
      const event = anS3Event(file, { eventName: 'ObjectCreated:CompleteMultipartUpload', etag: 'etag-1' });
      const { service, effects, committed, outcomes } = setup([file]);

      await service.handleBatch([message(event)]);

      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: null } }]]);
      expect(effects()).toEqual(['files.findMany', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:CompleteMultipartUpload recorded': 1 });
    });

    it.each([
      ['ready', 'another ETag', { etag: 'etag-2' }],
      ['ready', 'another size', { etag: 'etag-1', size: 2048 }],
      ['ready', 'no ETag', { etag: null, sequencer: '0055AED6DCD90281E5' }],
      ['processing', 'another ETag', { etag: 'etag-2' }],
      ['uploaded', 'another ETag', { etag: 'etag-2' }],
      ['failed', 'another ETag', { etag: 'etag-2' }],
      ['ready', 'the same ETag, for a single-PUT file (whose object is announced once)', { etag: 'etag-1', sequencer: '0055AED6DCD90281E6' }],
      ['processing', 'the same ETag, for a single-PUT file (whose object is announced once)', { etag: 'etag-1', sequencer: '0055AED6DCD90281E7' }],
    ] as const)('takes a %s file out of ready and verifies it again when the event reports %s', async (status, _, overrides) => {
      const file = aFile({ mode: 'single', status, size: 1024n, etag: 'etag-1' });
      const event = anS3Event(file, overrides);
      const { service, jobs, effects, committed, outcomes } = setup([file]);

      await service.handleBatch([message(event)]);

      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: 'recheck', file, etag: overrides.etag } }]]);
      expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', [recheckJob(file)]);
      expect(effects()).toEqual(['files.findMany', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put rechecked': 1 });
    });

    it('queues nothing for a redelivered rewrite event (the ledger knows it)', async () => {
      const file = aFile({ status: 'ready', etag: 'etag-1' });
      const { service, lifecycle, jobs, outcomes } = setup([file]);
      lifecycle.applyStorageEvents.mockResolvedValueOnce([{ duplicate: true, file: null }]);

      await service.handleBatch([message(anS3Event(file, { etag: 'etag-2' }))]);

      expect(jobs.enqueueMany).toHaveBeenCalledWith('media.verify', []);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put duplicate': 1 });
    });

    it('gives each rewrite event its own verification job, the same one for the same event', async () => {
      const file = aFile({ status: 'ready', etag: 'etag-1' });
      const { service, jobs } = setup([file]);

      await service.handleBatch([message(anS3Event(file, { etag: 'etag-2' }))]);
      await service.handleBatch([message(anS3Event(file, { etag: 'etag-2' }))]);
      await service.handleBatch([message(anS3Event(file, { etag: 'etag-3' }))]);

      const ids = jobs.enqueueMany.mock.calls.map(([, batch]) => batch[0].jobId);
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).not.toBe(ids[0]);
      expect(ids[0]).not.toBe(`verify-${file.id}`);
    });
  });

  it.each(['rejected', 'expired', 'deleted'] as const)(
    'only records an object created for a file that is already %s, without asking storage',
    async (status) => {
      const file = aFile({ status });
      const event = anS3Event(file, { eventName: 'ObjectCreated:CompleteMultipartUpload' });
      const { service, effects, committed, outcomes } = setup([file]);

      await service.handleBatch([message(event)]);

      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: null } }]]);
      expect(effects()).toEqual(['files.findMany', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:CompleteMultipartUpload recorded': 1 });
    },
  );

  describe('an object removed behind the platform', () => {
    it.each(['uploaded', 'processing', 'ready'] as const)('deletes a stored file (%s) once HEAD confirms its object is gone', async (status) => {
      const file = aFile({ status });
      const event = anS3Event(file, { eventName: 'ObjectRemoved:Delete' });
      const { service, storage, committed, outcomes } = setup([file], { head: null });

      await service.handleBatch([message(event)]);

      expect(storage.head).toHaveBeenCalledWith(file.storageKey);
      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: 'removedFromStorage', file } }]]);
      expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete deleted': 1 });
    });

    it('keeps the file when HEAD still finds its object (the removal arrived out of order with a later write)', async () => {
      const file = aFile({ status: 'ready' });
      const event = anS3Event(file, { eventName: 'ObjectRemoved:Delete' });
      const { service, committed, outcomes } = setup([file], { head: headOf(Number(file.size)) });

      await service.handleBatch([message(event)]);

      expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: null } }]]);
      expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete recorded': 1 });
    });

    it.each(['pending', 'uploading', 'completing', 'rejected', 'expired', 'deleted'] as const)(
      'only records the removal of an object whose file is %s (no stored file to delete), without asking storage',
      async (status) => {
        const file = aFile({ status });
        const { service, effects, committed, outcomes } = setup([file], { head: null });

        await service.handleBatch([message(anS3Event(file, { eventName: 'ObjectRemoved:Delete' }))]);

        expect(committed()[0][0].finding).toEqual({ step: null });
        expect(effects()).toEqual(['files.findMany', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
        expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete recorded': 1 });
      },
    );
  });

  it('ignores events of other buckets and keys it did not issue, without touching the database', async () => {
    const file = aFile({ status: 'pending' });
    const { service, effects, outcomes } = setup([file]);

    const batch = [
      message(anS3Event(file, { bucket: 'other' }), anS3Event(file, { key: 'uploads/whatever.txt' })),
      message(anS3Event(file, { key: `variants/${file.tenantId}/${file.id}` }), anS3Event(file, { key: `${file.storageKey}/thumb` })),
    ];
    await expect(service.handleBatch(batch)).resolves.toEqual(batch);

    expect(effects()).toEqual([]);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put ignored': 4 });
  });

  it.each([
    ['no upload', []],
    ["another tenant's upload", [aFile({ status: 'pending', tenantId: '11111111-1111-4111-8111-111111111111' })]],
  ])('only records an event for a key with %s', async (_, held) => {
    const file = aFile({ status: 'pending' });
    const event = anS3Event(file);
    const { service, files, effects, committed, outcomes } = setup(held.map((f) => ({ ...f, id: file.id })));

    await service.handleBatch([message(event)]);

    expect(files.findMany).toHaveBeenCalledWith([file.id]);
    expect(committed()).toEqual([[{ event: recordOf(file, event), finding: { step: null } }]]);
    expect(effects()).toEqual(['files.findMany', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
  });

  it('only records an event of another kind (a tagging or restore)', async () => {
    const file = aFile({ status: 'pending' });
    const { service, committed, outcomes } = setup([file]);

    await service.handleBatch([message(anS3Event(file, { eventName: 'ObjectTagging:Put' }))]);

    expect(committed()[0][0].finding).toEqual({ step: null });
    expect(await outcomes()).toEqual({ 'ObjectTagging:Put recorded': 1 });
  });

  describe('a batch of messages', () => {
    const a = aFile({ status: 'pending' });
    const b = aFile({ status: 'uploading' });
    const c = aFile({ status: 'ready' });

    it('reads its files once, commits all its steps in one call, and queues its verifications in one call', async () => {
      const { service, storage, effects, committed, outcomes } = setup([a, b, c]);
      storage.head.mockImplementation(async (key) => (key === c.storageKey ? null : headOf(Number(a.size))));
      const removal = anS3Event(c, { eventName: 'ObjectRemoved:Delete' });

      const batch = [message(anS3Event(a), anS3Event(b)), message(removal)];
      await expect(service.handleBatch(batch)).resolves.toEqual(batch);

      expect(committed()).toHaveLength(1);
      expect(committed()[0].map(({ event, finding }) => [event.fileId, finding.step])).toEqual([
        [a.id, 'confirmUploaded'],
        [b.id, 'confirmUploaded'],
        [c.id, 'removedFromStorage'],
      ]);
      expect(effects()).toEqual(['files.findMany', 'storage.head', 'storage.head', 'storage.head', 'lifecycle.applyStorageEvents', 'jobs.enqueueMany']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 2, 'ObjectRemoved:Delete deleted': 1 });
    });

    it('retries each message on its own when the shared commit fails, and answers only those that then succeed', async () => {
      const { service, lifecycle, committed, outcomes } = setup([a, b, c]);
      const failing = message(anS3Event(b));
      lifecycle.applyStorageEvents
        .mockRejectedValueOnce(new Error('deadlock detected')) // the batch
        .mockImplementationOnce(async (batch) => batch.map(() => ({ duplicate: false, file: { ...a, status: 'uploaded' } }))) // a alone
        .mockRejectedValueOnce(new Error('invalid input')); // b alone: left for redelivery, then the DLQ

      const first = message(anS3Event(a));
      await expect(service.handleBatch([first, failing])).resolves.toEqual([first]);

      expect(committed().map((batch) => batch.map(({ event }) => event.fileId))).toEqual([[a.id, b.id], [a.id], [b.id]]);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1 });
    });

    it('propagates the failure of a single message (nothing acknowledged), queueing nothing', async () => {
      const { service, lifecycle, jobs, outcomes } = setup([a]);
      lifecycle.applyStorageEvents.mockRejectedValueOnce(new Error('db down'));

      await expect(service.handleBatch([message(anS3Event(a))])).rejects.toThrow('db down');

      expect(jobs.enqueueMany).not.toHaveBeenCalled();
      expect(await outcomes()).toEqual({});
    });
  });
});
