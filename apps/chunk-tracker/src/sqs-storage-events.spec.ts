import { MetricsService } from '@app/observability';
import type { StorageEventMessage, StorageEventSource } from '@app/storage';
import { strictMock } from '@app/testing';
import { SqsStorageEvents } from './sqs-storage-events';
import type { StorageEventsService } from './storage-events.service';

describe('SqsStorageEvents', () => {
  it('starts consuming at bootstrap and hands each receive to the batch handler, answering what it acknowledged', async () => {
    const batch: StorageEventMessage[] = [{ events: [], context: { messageId: 'm-1', receiveCount: 1 } }];
    const source = strictMock<StorageEventSource>('source', { start: () => undefined });
    const events = strictMock<StorageEventsService>('events', { handleBatch: async (messages) => messages });

    new SqsStorageEvents(source, events, new MetricsService('chunk-tracker')).onApplicationBootstrap();
    const [handler] = source.start.mock.calls[0];

    await expect(handler(batch)).resolves.toEqual(batch);
    expect(source.start).toHaveBeenCalledTimes(1);
    expect(events.handleBatch).toHaveBeenCalledWith(batch);
  });

  it('reports the events queue, its DLQ and the oldest received age at a scrape', async () => {
    const source = strictMock<StorageEventSource>('source', {
      depth: async () => ({ visible: 7, inFlight: 2 }),
      deadLetterDepth: async () => ({ visible: 1, inFlight: 0 }),
    });
    Object.defineProperty(source, 'oldestMessageAgeSeconds', { value: 42.5 });
    const metrics = new MetricsService('chunk-tracker');
    new SqsStorageEvents(source, strictMock<StorageEventsService>('events'), metrics);

    const text = await metrics.registry.metrics();
    expect(text).toContain('sqs_messages{queue="events",state="visible",service="chunk-tracker"} 7');
    expect(text).toContain('sqs_messages{queue="events",state="in_flight",service="chunk-tracker"} 2');
    expect(text).toContain('sqs_messages{queue="dlq",state="visible",service="chunk-tracker"} 1');
    expect(text).toContain('sqs_oldest_message_age_seconds{queue="events",service="chunk-tracker"} 42.5');
  });

  it('reports no queue sample while SQS cannot be asked, rather than a stale one', async () => {
    const depth = jest.fn().mockResolvedValueOnce({ visible: 3, inFlight: 0 }).mockRejectedValue(new Error('SQS down'));
    const source = strictMock<StorageEventSource>('source', { depth, deadLetterDepth: async () => null });
    Object.defineProperty(source, 'oldestMessageAgeSeconds', { value: 0 });
    const metrics = new MetricsService('chunk-tracker');
    new SqsStorageEvents(source, strictMock<StorageEventsService>('events'), metrics);

    expect(await metrics.registry.metrics()).toContain('sqs_messages{queue="events",state="visible",service="chunk-tracker"} 3');
    expect(await metrics.registry.metrics()).not.toMatch(/^sqs_messages\{/m);
  });
});
