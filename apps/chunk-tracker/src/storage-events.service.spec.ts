import type { StorageEvent } from '@app/contracts';
import type { StorageEventRepository } from '@app/database';
import { MetricsService } from '@app/observability';
import { KeyLayout, StorageEventSource } from '@app/storage';
import type { TrackerConfig } from './config';
import { StorageEventsService } from './storage-events.service';

const tenantId = '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';
const fileId = '9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';
const event = (overrides: Partial<StorageEvent> = {}): StorageEvent => ({
  eventName: 'ObjectCreated:Put',
  bucket: 'uploads',
  key: `uploads/${tenantId}/${fileId}`,
  size: 5,
  etag: 'e1',
  sequencer: null,
  eventTime: null,
  ...overrides,
});
const ctx = { messageId: 'm1', receiveCount: 1 };

function setup(recordOnce: (e: unknown) => Promise<boolean>) {
  const ledger = { recordOnce: jest.fn(recordOnce) } as unknown as jest.Mocked<StorageEventRepository>;
  const metrics = new MetricsService('test');
  const service = new StorageEventsService(
    {} as StorageEventSource,
    ledger,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    { S3_BUCKET: 'uploads' } as TrackerConfig,
    metrics,
  );
  const count = async (outcome: string) =>
    (await metrics.registry.getSingleMetric('storage_events_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { service, ledger, count };
}

describe('StorageEventsService', () => {
  it('records an event for a key it issued, with the file id from the key', async () => {
    const { service, ledger, count } = setup(async () => true);
    await service.handle([event()], ctx);
    expect(ledger.recordOnce).toHaveBeenCalledWith({
      eventKey: `uploads/uploads/${tenantId}/${fileId}#ObjectCreated:Put#e1`,
      eventName: 'ObjectCreated:Put',
      fileId,
    });
    expect(await count('recorded')).toBe(1);
  });

  it('counts a redelivered event as a duplicate', async () => {
    const { service, count } = setup(async () => false);
    await service.handle([event()], ctx);
    expect(await count('duplicate')).toBe(1);
  });

  it('ignores events of other buckets and keys it did not issue, without touching the ledger', async () => {
    const { service, ledger, count } = setup(async () => true);
    await service.handle([event({ bucket: 'other' }), event({ key: 'uploads/whatever.txt' })], ctx);
    expect(ledger.recordOnce).not.toHaveBeenCalled();
    expect(await count('ignored')).toBe(2);
  });

  it('propagates a database failure so the message is not acknowledged', async () => {
    const { service } = setup(async () => Promise.reject(new Error('db down')));
    await expect(service.handle([event()], ctx)).rejects.toThrow('db down');
  });
});
