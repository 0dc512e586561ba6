import type { StorageEventMessage, StorageEventSource } from '@app/storage';
import { strictMock } from '@app/testing';
import { SqsStorageEvents } from './sqs-storage-events';
import type { StorageEventsService } from './storage-events.service';

describe('SqsStorageEvents', () => {
  it('starts consuming at bootstrap and hands each receive to the batch handler, answering what it acknowledged', async () => {
    const batch: StorageEventMessage[] = [{ events: [], context: { messageId: 'm-1', receiveCount: 1 } }];
    const source = strictMock<StorageEventSource>('source', { start: () => undefined });
    const events = strictMock<StorageEventsService>('events', { handleBatch: async (messages) => messages });

    new SqsStorageEvents(source, events).onApplicationBootstrap();
    const [handler] = source.start.mock.calls[0];

    await expect(handler(batch)).resolves.toEqual(batch);
    expect(source.start).toHaveBeenCalledTimes(1);
    expect(events.handleBatch).toHaveBeenCalledWith(batch);
  });
});
