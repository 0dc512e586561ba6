import type { StorageEvent } from '@app/contracts';
import type { FileRepository, FileRow, StorageEventRepository } from '@app/database';
import { MetricsService } from '@app/observability';
import type { JobQueue } from '@app/queue';
import { KeyLayout, ObjectStorage, StorageEventSource } from '@app/storage';
import type { TrackerConfig } from './config';
import type { FileLifecycleService } from './file-lifecycle.service';
import { StorageEventsService } from './storage-events.service';

const tenantId = '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';
const fileId = '9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';
const key = `uploads/${tenantId}/${fileId}`;
const event = (overrides: Partial<StorageEvent> = {}): StorageEvent => ({
  eventName: 'ObjectCreated:Put',
  bucket: 'uploads',
  key,
  size: 5,
  etag: 'e1',
  sequencer: null,
  eventTime: null,
  ...overrides,
});
const ctx = { messageId: 'm1', receiveCount: 1 };
const file = (overrides: Partial<FileRow> = {}) =>
  ({
    id: fileId,
    tenantId,
    ownerId: 'o',
    status: 'pending',
    size: 5n,
    storageKey: key,
    mode: 'single',
    s3UploadId: null,
    contentType: 'text/plain',
    filename: 'a.txt',
    ...overrides,
  }) as FileRow;

function setup(opts: { known?: boolean; file?: FileRow | null; headSize?: number | null } = {}) {
  const ledger = { find: jest.fn(async () => (opts.known ? { eventKey: 'k' } : null)), recordOnce: jest.fn(async () => true) };
  const files = {
    find: jest.fn(async () => (opts.file === undefined ? file() : opts.file)),
    transitionForEvent: jest.fn(async (_r: unknown, _id: string, t: { to: string }) => ({
      duplicate: false,
      file: file({ status: t.to as FileRow['status'] }),
    })),
  };
  const storage = {
    head: jest.fn(async () => (opts.headSize === null ? null : { size: opts.headSize ?? 5, etag: 'e1', contentType: null, lastModified: null })),
  };
  const lifecycle = { removeFromStorage: jest.fn(async () => undefined) };
  const jobs = { enqueue: jest.fn(async () => 'job') };
  const metrics = new MetricsService('test');
  const service = new StorageEventsService(
    {} as StorageEventSource,
    ledger as unknown as StorageEventRepository,
    files as unknown as FileRepository,
    storage as unknown as ObjectStorage,
    lifecycle as unknown as FileLifecycleService,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    jobs as unknown as JobQueue,
    { S3_BUCKET: 'uploads' } as TrackerConfig,
    metrics,
  );
  const count = async (outcome: string) =>
    (await metrics.registry.getSingleMetric('storage_events_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { service, ledger, files, storage, lifecycle, jobs, count };
}

describe('StorageEventsService', () => {
  it('moves a pending upload to uploaded when HEAD shows the declared size, committing quota, with the event record', async () => {
    const { service, files, jobs, count } = setup();
    await service.handle([event()], ctx);
    expect(jobs.enqueue).toHaveBeenCalledWith('media.verify', { v: 1, fileId }, { jobId: `verify-${fileId}` });
    expect(files.transitionForEvent).toHaveBeenCalledWith(
      { eventKey: `uploads/${key}#ObjectCreated:Put#e1`, eventName: 'ObjectCreated:Put', fileId },
      fileId,
      expect.objectContaining({ to: 'uploaded', quota: 'commit', change: expect.objectContaining({ type: 'file.uploaded' }) }),
    );
    expect(await count('uploaded')).toBe(1);
  });

  it('rejects an object of another size than declared, releases quota and removes the object', async () => {
    const { service, files, lifecycle, jobs, count } = setup({ headSize: 6 });
    await service.handle([event()], ctx);
    expect(jobs.enqueue).not.toHaveBeenCalled();
    expect(files.transitionForEvent).toHaveBeenCalledWith(expect.anything(), fileId, expect.objectContaining({ to: 'rejected', quota: 'release' }));
    expect(lifecycle.removeFromStorage).toHaveBeenCalled();
    expect(await count('rejected')).toBe(1);
  });

  it('answers a redelivered event from the ledger without asking storage', async () => {
    const { service, storage, files, count } = setup({ known: true });
    await service.handle([event()], ctx);
    expect(storage.head).not.toHaveBeenCalled();
    expect(files.transitionForEvent).not.toHaveBeenCalled();
    expect(await count('duplicate')).toBe(1);
  });

  it('only records an event for a file already past the upload', async () => {
    const { service, storage, ledger, files } = setup({ file: file({ status: 'ready' }) });
    await service.handle([event({ eventName: 'ObjectCreated:CompleteMultipartUpload' })], ctx);
    expect(storage.head).not.toHaveBeenCalled();
    expect(files.transitionForEvent).not.toHaveBeenCalled();
    expect(ledger.recordOnce).toHaveBeenCalledTimes(1);
  });

  it('marks a stored file deleted when its object is removed behind the platform', async () => {
    const { service, files } = setup({ file: file({ status: 'ready' }), headSize: null });
    await service.handle([event({ eventName: 'ObjectRemoved:Delete' })], ctx);
    expect(files.transitionForEvent).toHaveBeenCalledWith(expect.anything(), fileId, expect.objectContaining({ to: 'deleted', quota: 'free' }));
  });

  it('ignores events of other buckets and keys it did not issue, without touching the ledger', async () => {
    const { service, ledger, count } = setup();
    await service.handle([event({ bucket: 'other' }), event({ key: 'uploads/whatever.txt' })], ctx);
    expect(ledger.find).not.toHaveBeenCalled();
    expect(ledger.recordOnce).not.toHaveBeenCalled();
    expect(await count('ignored')).toBe(2);
  });

  it("records an event for a key with no upload (or another tenant's id pair) and changes no file", async () => {
    const { service, files, ledger } = setup({ file: file({ tenantId: '11111111-1111-4111-8111-111111111111' }) });
    await service.handle([event()], ctx);
    expect(files.transitionForEvent).not.toHaveBeenCalled();
    expect(ledger.recordOnce).toHaveBeenCalled();
  });

  it('propagates a database failure so the message is not acknowledged', async () => {
    const { service, files } = setup();
    files.transitionForEvent.mockRejectedValueOnce(new Error('db down'));
    await expect(service.handle([event()], ctx)).rejects.toThrow('db down');
  });
});
