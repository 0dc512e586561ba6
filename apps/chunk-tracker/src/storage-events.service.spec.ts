import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileRepository, StorageEventRecord, StorageEventRepository } from '@app/database';
import type { StorageEvent } from '@app/domain';
import type { EventStep, FileLifecycle } from '@app/lifecycle';
import { Logger } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import type { JobQueue } from '@app/queue';
import { KeyLayout, type ObjectHead, type ObjectStorage, type StorageEventSource } from '@app/storage';
import { aFile, anS3Event, strictMock, callsInOrder } from '@app/testing';
import type { TrackerConfig } from './config';
import { StorageEventsService } from './storage-events.service';

const context = { messageId: 'm-1', receiveCount: 1 };
const headOf = (size: number, etag = 'etag-1'): ObjectHead => ({ size, etag, contentType: null, lastModified: null });
/** The ledger row the service writes for `event` (its key is stable across SQS redeliveries). */
const recordOf = (file: FileRecord, event: StorageEvent): StorageEventRecord => ({
  eventKey: `uploads/${file.storageKey}#${event.eventName}#${event.sequencer ?? event.etag}`,
  eventName: event.eventName,
  fileId: file.id,
});
const moved = (file: FileRecord, status: FileStatusName): EventStep => ({ duplicate: false, file: { ...file, status } });

/**
 * A tracker whose adapters are strict mocks: by default the event is new, `file` is what the
 * database holds, storage holds `head`, and every lifecycle intent moves the file.
 */
function setup(file: FileRecord | null, opts: { head?: ObjectHead | null; redelivered?: boolean } = {}) {
  const ledger = strictMock<StorageEventRepository>('ledger', {
    find: async (eventKey) => (opts.redelivered ? { eventKey, eventName: 'ObjectCreated:Put', fileId: file?.id ?? null, processedAt: new Date() } : null),
    recordOnce: async () => true,
  });
  const files = strictMock<FileRepository>('files', { find: async () => file });
  const storage = strictMock<ObjectStorage>('storage', { head: async () => (opts.head === undefined ? headOf(Number(file?.size)) : opts.head) });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    confirmUploaded: async (f) => moved(f, 'uploaded'),
    rejectUpload: async (f) => moved(f, 'rejected'),
    removedFromStorage: async (f) => moved(f, 'deleted'),
  });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  const source = strictMock<StorageEventSource>('source', { start: () => undefined });
  const metrics = new MetricsService('test');
  const service = new StorageEventsService(
    source,
    ledger,
    files,
    storage,
    lifecycle,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    jobs,
    strictMock<TrackerConfig>('config', { S3_BUCKET: 'uploads' }),
    metrics,
  );
  const mocks = { ledger, files, storage, lifecycle, jobs, source };
  /** Every adapter call, in order: a test states all the effects it allows. */
  const effects = () => callsInOrder(mocks).map(([call]) => call);
  /** How many events ended with each outcome (the counter is the service's only report of one). */
  const outcomes = async () => {
    const { values } = await metrics.registry.getSingleMetric('storage_events_total')!.get();
    return Object.fromEntries(values.map((v) => [`${v.labels.event} ${v.labels.outcome}`, v.value]));
  };
  return { service, ...mocks, effects, outcomes };
}

describe('StorageEventsService', () => {
  beforeAll(() => Logger.overrideLogger(false));

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
        const { service, lifecycle, jobs, effects, outcomes } = setup(file, { head: headOf(1024, 'etag-from-head') });

        await service.handle([event], context);

        expect(lifecycle.confirmUploaded).toHaveBeenCalledWith(file, { etag: 'etag-from-head', confirmedBy: recordOf(file, event) });
        expect(jobs.enqueue).toHaveBeenCalledWith('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}` });
        expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'lifecycle.confirmUploaded', 'jobs.enqueue']);
        expect(await outcomes()).toEqual({ [`${eventName} uploaded`]: 1 });
      },
    );

    it("takes storage's HEAD, not the event's size, as the witness: another size than declared rejects the upload with the reason", async () => {
      const file = aFile({ status: 'uploading', size: 1024n });
      const event = anS3Event(file, { size: 1024 }); // the event claims the declared size; storage holds more
      const { service, lifecycle, effects, outcomes } = setup(file, { head: headOf(1025) });

      await service.handle([event], context);

      expect(lifecycle.rejectUpload).toHaveBeenCalledWith(file, 'size_mismatch: storage holds 1025 bytes, 1024 were declared', recordOf(file, event));
      // Removing the object and releasing the quota are the lifecycle's part of the step; nothing is verified.
      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'lifecycle.rejectUpload']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put rejected': 1 });
    });

    it('confirms an upload whose event reports a stale size when HEAD shows the declared one', async () => {
      const file = aFile({ status: 'pending', size: 1024n });
      const { service, lifecycle, outcomes } = setup(file, { head: headOf(1024) });

      await service.handle([anS3Event(file, { size: 7 })], context);

      expect(lifecycle.confirmUploaded).toHaveBeenCalledTimes(1);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1 });
    });

    it('only records the event when storage no longer holds the object (removed again since)', async () => {
      const file = aFile({ status: 'pending' });
      const event = anS3Event(file);
      const { service, ledger, effects, outcomes } = setup(file, { head: null });

      await service.handle([event], context);

      expect(ledger.recordOnce).toHaveBeenCalledWith(recordOf(file, event));
      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'ledger.recordOnce']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
    });

    it('queues no verification when the file moved on between the read and the step (the event is only recorded)', async () => {
      const file = aFile({ status: 'pending' });
      const { service, lifecycle, effects, outcomes } = setup(file);
      lifecycle.confirmUploaded.mockResolvedValueOnce({ duplicate: false, file: null });

      await service.handle([anS3Event(file)], context);

      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'lifecycle.confirmUploaded']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
    });

    it('reports a rejection the file had already left as recorded', async () => {
      const file = aFile({ status: 'pending', size: 1024n });
      const { service, lifecycle, outcomes } = setup(file, { head: headOf(1) });
      lifecycle.rejectUpload.mockResolvedValueOnce({ duplicate: false, file: null });

      await service.handle([anS3Event(file)], context);

      expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
    });
  });

  describe('redeliveries change nothing', () => {
    it('answers a redelivered event from the ledger without asking the database or storage', async () => {
      const file = aFile({ status: 'pending' });
      const event = anS3Event(file);
      const { service, ledger, effects, outcomes } = setup(file, { redelivered: true });

      await service.handle([event], context);

      expect(ledger.find).toHaveBeenCalledWith(recordOf(file, event).eventKey);
      expect(effects()).toEqual(['ledger.find']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put duplicate': 1 });
    });

    it('queues no second verification when a concurrent delivery of the same event committed first', async () => {
      const file = aFile({ status: 'pending' });
      const { service, lifecycle, effects, outcomes } = setup(file);
      lifecycle.confirmUploaded.mockResolvedValueOnce({ duplicate: true, file: null });

      await service.handle([anS3Event(file)], context);

      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'lifecycle.confirmUploaded']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:Put duplicate': 1 });
    });

    it.each([
      ['rejectUpload', 'pending', 'ObjectCreated:Put', headOf(1)],
      ['removedFromStorage', 'ready', 'ObjectRemoved:Delete', null],
    ] as const)('reports %s found already applied for the event as a duplicate', async (intent, status, eventName, head) => {
      const file = aFile({ status });
      const { service, lifecycle, outcomes } = setup(file, { head });
      lifecycle[intent].mockResolvedValueOnce({ duplicate: true, file: null });

      await service.handle([anS3Event(file, { eventName })], context);

      expect(lifecycle[intent]).toHaveBeenCalledTimes(1);
      expect(await outcomes()).toEqual({ [`${eventName} duplicate`]: 1 });
    });

    it('counts a ledger row written by a concurrent delivery as a duplicate', async () => {
      const file = aFile({ status: 'ready' });
      const { service, ledger, outcomes } = setup(file);
      ledger.recordOnce.mockResolvedValueOnce(false);

      await service.handle([anS3Event(file)], context);

      expect(await outcomes()).toEqual({ 'ObjectCreated:Put duplicate': 1 });
    });
  });

  it.each(['uploaded', 'processing', 'ready', 'failed', 'rejected', 'expired', 'deleted'] as const)(
    'only records an object created for a file that is already %s, without asking storage',
    async (status) => {
      const file = aFile({ status });
      const event = anS3Event(file, { eventName: 'ObjectCreated:CompleteMultipartUpload' });
      const { service, ledger, effects, outcomes } = setup(file);

      await service.handle([event], context);

      expect(ledger.recordOnce).toHaveBeenCalledWith(recordOf(file, event));
      expect(effects()).toEqual(['ledger.find', 'files.find', 'ledger.recordOnce']);
      expect(await outcomes()).toEqual({ 'ObjectCreated:CompleteMultipartUpload recorded': 1 });
    },
  );

  describe('an object removed behind the platform', () => {
    it.each(['uploaded', 'processing', 'ready'] as const)('deletes a stored file (%s) once HEAD confirms its object is gone', async (status) => {
      const file = aFile({ status });
      const event = anS3Event(file, { eventName: 'ObjectRemoved:Delete' });
      const { service, storage, lifecycle, effects, outcomes } = setup(file, { head: null });

      await service.handle([event], context);

      expect(storage.head).toHaveBeenCalledWith(file.storageKey);
      expect(lifecycle.removedFromStorage).toHaveBeenCalledWith(file, recordOf(file, event));
      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'lifecycle.removedFromStorage']);
      expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete deleted': 1 });
    });

    it('keeps the file when HEAD still finds its object (the removal arrived out of order with a later write)', async () => {
      const file = aFile({ status: 'ready' });
      const event = anS3Event(file, { eventName: 'ObjectRemoved:Delete' });
      const { service, ledger, effects, outcomes } = setup(file, { head: headOf(Number(file.size)) });

      await service.handle([event], context);

      expect(ledger.recordOnce).toHaveBeenCalledWith(recordOf(file, event));
      expect(effects()).toEqual(['ledger.find', 'files.find', 'storage.head', 'ledger.recordOnce']);
      expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete recorded': 1 });
    });

    it.each(['pending', 'uploading', 'completing', 'rejected', 'expired', 'deleted'] as const)(
      'only records the removal of an object whose file is %s (no stored file to delete)',
      async (status) => {
        const file = aFile({ status });
        const { service, effects, outcomes } = setup(file, { head: null });

        await service.handle([anS3Event(file, { eventName: 'ObjectRemoved:Delete' })], context);

        expect(effects()).toEqual(['ledger.find', 'files.find', 'ledger.recordOnce']);
        expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete recorded': 1 });
      },
    );

    it('reports a removal the file had already left as recorded', async () => {
      const file = aFile({ status: 'ready' });
      const { service, lifecycle, outcomes } = setup(file, { head: null });
      lifecycle.removedFromStorage.mockResolvedValueOnce({ duplicate: false, file: null });

      await service.handle([anS3Event(file, { eventName: 'ObjectRemoved:Delete' })], context);

      expect(await outcomes()).toEqual({ 'ObjectRemoved:Delete recorded': 1 });
    });
  });

  it('ignores events of other buckets and keys it did not issue, without touching the ledger', async () => {
    const file = aFile({ status: 'pending' });
    const { service, effects, outcomes } = setup(file);

    await service.handle(
      [
        anS3Event(file, { bucket: 'other' }),
        anS3Event(file, { key: 'uploads/whatever.txt' }),
        anS3Event(file, { key: `variants/${file.tenantId}/${file.id}` }),
        anS3Event(file, { key: `${file.storageKey}/thumb` }),
      ],
      context,
    );

    expect(effects()).toEqual([]);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put ignored': 4 });
  });

  it.each([
    ['no upload', null],
    ["another tenant's upload", aFile({ status: 'pending', tenantId: '11111111-1111-4111-8111-111111111111' })],
  ])('only records an event for a key with %s', async (_, found) => {
    const file = aFile({ status: 'pending' });
    const event = anS3Event(file);
    const { service, ledger, files, effects, outcomes } = setup(file);
    files.find.mockResolvedValueOnce(found && { ...found, id: file.id });

    await service.handle([event], context);

    expect(files.find).toHaveBeenCalledWith(file.id);
    expect(ledger.recordOnce).toHaveBeenCalledWith(recordOf(file, event));
    expect(effects()).toEqual(['ledger.find', 'files.find', 'ledger.recordOnce']);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put recorded': 1 });
  });

  it('only records an event of another kind (a tagging or restore)', async () => {
    const file = aFile({ status: 'pending' });
    const { service, effects, outcomes } = setup(file);

    await service.handle([anS3Event(file, { eventName: 'ObjectTagging:Put' })], context);

    expect(effects()).toEqual(['ledger.find', 'files.find', 'ledger.recordOnce']);
    expect(await outcomes()).toEqual({ 'ObjectTagging:Put recorded': 1 });
  });

  it('handles each event of a message on its own', async () => {
    const uploaded = aFile({ status: 'pending' });
    const removed = aFile({ status: 'ready' });
    const { service, files, storage, outcomes } = setup(uploaded);
    files.find.mockResolvedValueOnce(uploaded).mockResolvedValueOnce(removed);
    storage.head.mockResolvedValueOnce(headOf(Number(uploaded.size))).mockResolvedValueOnce(null);

    await service.handle([anS3Event(uploaded), anS3Event(removed, { eventName: 'ObjectRemoved:Delete' })], context);

    expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1, 'ObjectRemoved:Delete deleted': 1 });
  });

  it('propagates a database failure so the message is not acknowledged, and queues nothing', async () => {
    const file = aFile({ status: 'pending' });
    const { service, lifecycle, jobs, outcomes } = setup(file);
    lifecycle.confirmUploaded.mockRejectedValueOnce(new Error('db down'));

    await expect(service.handle([anS3Event(file)], context)).rejects.toThrow('db down');

    expect(jobs.enqueue).not.toHaveBeenCalled();
    expect(await outcomes()).toEqual({});
  });

  it('consumes the storage event source from bootstrap on', async () => {
    const file = aFile({ status: 'pending' });
    const { service, source, outcomes } = setup(file);

    service.onApplicationBootstrap();
    const [handler] = source.start.mock.calls[0];
    await handler([anS3Event(file)], context);

    expect(source.start).toHaveBeenCalledTimes(1);
    expect(await outcomes()).toEqual({ 'ObjectCreated:Put uploaded': 1 });
  });
});
