import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { StorageEventSource } from '@app/storage';
import { StorageEventsService } from './storage-events.service';

/**
 * The SQS source of storage events (STORAGE_EVENTS=sqs): from bootstrap on, every receive is handed
 * to StorageEventsService.handleBatch; what it answers done is deleted, the rest SQS delivers again.
 * StorageEventsModule stops the consumer (draining in-flight batches) at shutdown.
 */
@Injectable()
export class SqsStorageEvents implements OnApplicationBootstrap {
  constructor(
    private readonly source: StorageEventSource,
    private readonly events: StorageEventsService,
  ) {}

  onApplicationBootstrap(): void {
    this.source.start((messages) => this.events.handleBatch(messages));
  }
}
