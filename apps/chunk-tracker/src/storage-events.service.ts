import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { StorageEvent } from '@app/contracts';
import { StorageEventRepository } from '@app/database';
import { MetricsService } from '@app/observability';
import { KeyLayout, StorageEventContext, StorageEventSource, storageEventKey } from '@app/storage';
import { APP_CONFIG } from '@app/config';
import type { TrackerConfig } from './config';

/**
 * Storage is the source of truth for "the bytes exist": this consumes the bucket's S3 event
 * notifications and records each event exactly once (processed_storage_events), however often
 * SQS delivers it. A message is acknowledged only after its events are committed.
 */
@Injectable()
export class StorageEventsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(StorageEventsService.name);
  private readonly processed;

  constructor(
    private readonly source: StorageEventSource,
    private readonly ledger: StorageEventRepository,
    private readonly keys: KeyLayout,
    @Inject(APP_CONFIG) private readonly config: TrackerConfig,
    metrics: MetricsService,
  ) {
    this.processed = metrics.counter('storage_events_total', 'S3 events received from SQS', ['event', 'outcome']);
  }

  onApplicationBootstrap(): void {
    this.source.start((events, context) => this.handle(events, context));
  }

  async handle(events: StorageEvent[], context: StorageEventContext): Promise<void> {
    for (const event of events) {
      const outcome = await this.handleOne(event, context);
      this.processed.inc({ event: event.eventName, outcome });
    }
  }

  private async handleOne(event: StorageEvent, context: StorageEventContext): Promise<'recorded' | 'duplicate' | 'ignored'> {
    if (event.bucket !== this.config.S3_BUCKET) {
      this.logger.warn({ bucket: event.bucket, key: event.key, messageId: context.messageId }, 'event for another bucket ignored');
      return 'ignored';
    }
    const ids = this.keys.parseObjectKey(event.key);
    if (!ids) {
      // Not a key this platform issued (someone wrote into the prefix directly): nothing to track.
      this.logger.warn({ key: event.key, event: event.eventName }, 'event for an unknown key ignored');
      return 'ignored';
    }
    const fresh = await this.ledger.recordOnce({ eventKey: storageEventKey(event), eventName: event.eventName, fileId: ids.fileId });
    this.logger.log({ fileId: ids.fileId, event: event.eventName, size: event.size, receiveCount: context.receiveCount, duplicate: !fresh }, 'storage event');
    return fresh ? 'recorded' : 'duplicate';
  }
}
