import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { StorageEvent } from '@app/domain';
import { FileRecord, FileRepository, StorageEventRecord, StorageEventRepository } from '@app/database';
import { AWAITING_BYTES, FileLifecycle, isIn, UPLOAD_COMPLETED } from '@app/lifecycle';
import { MetricsService } from '@app/observability';
import { JobQueue } from '@app/queue';
import { KeyLayout, ObjectStorage, StorageEventContext, StorageEventSource, storageEventKey } from '@app/storage';
import type { TrackerConfig } from './config';

type Outcome = 'uploaded' | 'rejected' | 'deleted' | 'recorded' | 'duplicate' | 'ignored';

/**
 * Storage is the witness: a file becomes `uploaded` only when its ObjectCreated event arrives
 * and a HEAD shows the declared size; a different size is `rejected` (object deleted, quota
 * released). Each event is recorded in the same transaction as the transition it causes, so
 * SQS's redeliveries, duplicates and reordering change nothing. A message is acknowledged only
 * after that commit.
 */
@Injectable()
export class StorageEventsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(StorageEventsService.name);
  private readonly processed;

  constructor(
    private readonly source: StorageEventSource,
    private readonly ledger: StorageEventRepository,
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
    private readonly lifecycle: FileLifecycle,
    private readonly keys: KeyLayout,
    private readonly jobs: JobQueue,
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

  private async handleOne(event: StorageEvent, context: StorageEventContext): Promise<Outcome> {
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
    const record = { eventKey: storageEventKey(event), eventName: event.eventName, fileId: ids.fileId };
    // Fast path for redeliveries: no HEAD, no transaction.
    if (await this.ledger.find(record.eventKey)) return 'duplicate';
    const file = await this.files.find(ids.fileId);
    if (!file || file.tenantId !== ids.tenantId) {
      this.logger.warn({ key: event.key, event: event.eventName }, 'event for a key with no upload');
      return (await this.ledger.recordOnce(record)) ? 'recorded' : 'duplicate';
    }
    if (event.eventName.startsWith('ObjectCreated:')) return this.created(file, record, context);
    if (event.eventName.startsWith('ObjectRemoved:')) return this.removed(file, record);
    return (await this.ledger.recordOnce(record)) ? 'recorded' : 'duplicate';
  }

  private async created(file: FileRecord, record: StorageEventRecord, context: StorageEventContext): Promise<Outcome> {
    if (!isIn(AWAITING_BYTES, file.status)) return (await this.ledger.recordOnce(record)) ? 'recorded' : 'duplicate';
    const head = await this.storage.head(file.storageKey);
    if (!head) return (await this.ledger.recordOnce(record)) ? 'recorded' : 'duplicate'; // already removed again
    const declared = Number(file.size);
    if (head.size === declared) {
      const { duplicate, file: moved } = await this.lifecycle.confirmUploaded(file, { etag: head.etag, confirmedBy: record });
      if (duplicate) return 'duplicate';
      if (!moved) return 'recorded';
      this.logger.log({ fileId: file.id, size: declared, event: record.eventName, receiveCount: context.receiveCount }, 'file uploaded');
      // After the commit; a lost enqueue is re-driven by the reconciler (files stuck in `uploaded`).
      await this.jobs.enqueue('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}` });
      return 'uploaded';
    }
    const reason = `size_mismatch: storage holds ${head.size} bytes, ${declared} were declared`;
    const { duplicate, file: rejected } = await this.lifecycle.rejectUpload(file, reason, record);
    if (duplicate) return 'duplicate';
    return rejected ? 'rejected' : 'recorded';
  }

  /** An object removed behind the platform's back: the file is gone for its owner too. */
  private async removed(file: FileRecord, record: StorageEventRecord): Promise<Outcome> {
    if (!isIn(UPLOAD_COMPLETED, file.status) || (await this.storage.head(file.storageKey)))
      return (await this.ledger.recordOnce(record)) ? 'recorded' : 'duplicate';
    const { duplicate, file: deleted } = await this.lifecycle.removedFromStorage(file, record);
    if (duplicate) return 'duplicate';
    return deleted ? 'deleted' : 'recorded';
  }
}
