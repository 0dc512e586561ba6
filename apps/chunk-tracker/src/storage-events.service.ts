import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { StorageEvent } from '@app/domain';
import { FileRecord, FileRepository, StorageEventRecord } from '@app/database';
import { AWAITING_BYTES, EventStep, FileLifecycle, isIn, STORED, StorageFinding, UPLOAD_COMPLETED } from '@app/lifecycle';
import { MetricsService } from '@app/observability';
import { JobPayloads, JobQueue } from '@app/queue';
import { KeyLayout, ObjectStorage, StorageEventContext, StorageEventMessage, storageEventKey } from '@app/storage';
import type { TrackerConfig } from './config';

type Outcome = 'uploaded' | 'rejected' | 'deleted' | 'rechecked' | 'recorded' | 'duplicate' | 'ignored';

/** An event of a key this platform issued, with the upload it names (null when there is none). */
interface TrackedEvent {
  event: StorageEvent;
  context: StorageEventContext;
  record: StorageEventRecord;
  /** The tenant its key names: the upload must be that tenant's. */
  tenantId: string;
  file: FileRecord | null;
}

/**
 * Storage is the witness: a file becomes `uploaded` only when its ObjectCreated event arrives
 * and a HEAD shows the declared size; a different size is `rejected` (object deleted, quota
 * released). Each event is recorded in the same transaction as the transition it causes, so
 * redeliveries, duplicates and reordering change nothing. A message is acknowledged only after
 * that commit. Its source is SQS (SqsStorageEvents) or Ceph RGW's HTTP push
 * (StorageEventsPushController), chosen by STORAGE_EVENTS; both hand their messages to
 * handleBatch (docs/adr/0018-storage-events-http-push.md).
 *
 * An object written again after its file was stored (a reused URL where storage ignores
 * `If-None-Match`, a hand in the bucket) is never only recorded: the file leaves `ready` and is
 * verified again (issue #11).
 *
 * Events come in batches (one SQS receive): one read of their files, their HEADs at once, and
 * one transaction for all their steps and ledger rows, whose insert is also the duplicate check.
 * The events of a batch are independent (each moves its own file, guarded by its status), so
 * they can share a commit; if that commit fails, each message is retried on its own so that one
 * bad event does not hold the others back.
 */
@Injectable()
export class StorageEventsService {
  private readonly logger = new Logger(StorageEventsService.name);
  private readonly processed;

  constructor(
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
    private readonly lifecycle: FileLifecycle,
    private readonly keys: KeyLayout,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: TrackerConfig,
    metrics: MetricsService,
  ) {
    this.processed = metrics.counter('storage_events_total', 'S3 events received (from SQS or pushed by RGW)', ['event', 'outcome']);
  }

  /** Answers the messages that are done (acknowledged); the others are delivered again by their source. */
  async handleBatch(messages: StorageEventMessage[]): Promise<StorageEventMessage[]> {
    try {
      await this.handle(messages);
      return messages;
    } catch (error) {
      if (messages.length === 1) throw error;
      this.logger.warn({ err: error, messages: messages.length }, 'storage event batch failed; retrying its messages one by one');
      const done: StorageEventMessage[] = [];
      for (const message of messages) {
        try {
          await this.handle([message]);
          done.push(message);
        } catch (messageError) {
          this.logger.warn({ err: messageError, messageId: message.context.messageId }, 'storage event failed; left for redelivery');
        }
      }
      return done;
    }
  }

  private async handle(messages: StorageEventMessage[]): Promise<void> {
    const tracked: TrackedEvent[] = [];
    for (const { events, context } of messages) {
      for (const event of events) {
        const item = this.track(event, context);
        if (item) tracked.push(item);
        else this.processed.inc({ event: event.eventName, outcome: 'ignored' });
      }
    }
    if (!tracked.length) return;

    const files = new Map((await this.files.findMany([...new Set(tracked.map((t) => t.record.fileId!))])).map((f) => [f.id, f]));
    for (const item of tracked) {
      const file = files.get(item.record.fileId!);
      // A key with no upload, or another tenant's (someone wrote into the prefix directly): only recorded.
      item.file = file?.tenantId === item.tenantId ? file : null;
      if (!item.file) this.logger.warn({ key: item.event.key, event: item.event.eventName }, 'event for a key with no upload');
    }
    const findings = await Promise.all(tracked.map((item) => this.finding(item)));
    const steps = await this.lifecycle.applyStorageEvents(tracked.map((item, i) => ({ event: item.record, finding: findings[i] })));

    // After the commit; a lost enqueue is re-driven by the reconciler (files stuck in `uploaded`).
    const uploaded = steps.flatMap((step, i) => (findings[i].step === 'confirmUploaded' && step.file ? [step.file] : []));
    // A recheck gets its own job id per event: the first verification may still be running on the
    // old bytes, and `verify-<id>` would then be a no-op. A redelivery is a ledger duplicate, so
    // it moves nothing and queues nothing.
    // Each job carries the request id of its file's initiation: its logs, and the jobs after it,
    // are found under the id the client's first call got back (x-request-id).
    const rechecks = steps.flatMap((step, i) =>
      findings[i].step === 'recheck' && step.file ? [{ payload: verifyPayload(step.file), jobId: recheckJobId(tracked[i].record) }] : [],
    );
    await this.jobs.enqueueMany('media.verify', [...uploaded.map((file) => ({ payload: verifyPayload(file), jobId: `verify-${file.id}` })), ...rechecks]);
    for (const [i, item] of tracked.entries()) {
      const outcome = this.outcome(findings[i], steps[i]);
      if (outcome === 'rechecked')
        this.logger.warn(
          { fileId: item.file!.id, requestId: item.file!.requestId, key: item.event.key, event: item.event.eventName, etag: item.event.etag },
          'stored file written again; verifying it again',
        );
      const finding = findings[i];
      if (outcome === 'uploaded' && finding.step === 'confirmUploaded')
        this.logger.log(
          {
            fileId: finding.file.id,
            requestId: finding.file.requestId,
            size: Number(finding.file.size),
            event: item.event.eventName,
            receiveCount: item.context.receiveCount,
          },
          'file uploaded',
        );
      this.processed.inc({ event: item.event.eventName, outcome });
    }
  }

  /** The event as the ledger records it, or null for a bucket or key this platform does not track. */
  private track(event: StorageEvent, context: StorageEventContext): TrackedEvent | null {
    if (event.bucket !== this.config.S3_BUCKET) {
      this.logger.warn({ bucket: event.bucket, key: event.key, messageId: context.messageId }, 'event for another bucket ignored');
      return null;
    }
    const ids = this.keys.parseObjectKey(event.key);
    if (!ids) {
      // Not a key this platform issued (someone wrote into the prefix directly): nothing to track.
      this.logger.warn({ key: event.key, event: event.eventName }, 'event for an unknown key ignored');
      return null;
    }
    return {
      event,
      context,
      record: { eventKey: storageEventKey(event), eventName: event.eventName, fileId: ids.fileId },
      tenantId: ids.tenantId,
      file: null,
    };
  }

  /** What storage shows about the event's file: the step it causes, if any. */
  private async finding({ event, file }: TrackedEvent): Promise<StorageFinding> {
    if (!file) return { step: null };
    if (event.eventName.startsWith('ObjectCreated:')) {
      if (isIn(STORED, file.status)) return rewritten(event, file) ? { step: 'recheck', file, etag: event.etag } : { step: null };
      if (!isIn(AWAITING_BYTES, file.status)) return { step: null };
      const head = await this.storage.head(file.storageKey);
      if (!head) return { step: null }; // already removed again
      if (file.sizeDeclared === false) return this.sizedByStorage(file, head);
      const declared = Number(file.size);
      if (head.size === declared) return { step: 'confirmUploaded', file, etag: head.etag };
      return { step: 'rejectUpload', file, reason: `size_mismatch: storage holds ${head.size} bytes, ${declared} were declared` };
    }
    // An object removed behind the platform's back: the file is gone for its owner too.
    if (event.eventName.startsWith('ObjectRemoved:')) {
      if (!isIn(UPLOAD_COMPLETED, file.status) || (await this.storage.head(file.storageKey))) return { step: null };
      return { step: 'removedFromStorage', file };
    }
    return { step: null };
  }

  /**
   * An upload that never said its size (a form POST through /companion, whose policy bounded it):
   * storage's object is its size, charged to the quota now; bytes beyond the quota reject it.
   */
  private async sizedByStorage(file: FileRecord, head: { size: number; etag: string | null }): Promise<StorageFinding> {
    const sized = await this.lifecycle.declareSize(file, head.size);
    if (sized === 'quota_exceeded') return { step: 'rejectUpload', file, reason: `quota_exceeded: ${head.size} bytes exceed the tenant's storage quota` };
    if (!sized || !isIn(AWAITING_BYTES, sized.status) || Number(sized.size) !== head.size) return { step: null };
    return { step: 'confirmUploaded', file: sized, etag: head.etag };
  }

  private outcome(finding: StorageFinding, step: EventStep): Outcome {
    if (step.duplicate) return 'duplicate';
    if (!step.file) return 'recorded';
    const outcomes = { confirmUploaded: 'uploaded', rejectUpload: 'rejected', removedFromStorage: 'deleted', recheck: 'rechecked' } as const;
    return finding.step ? outcomes[finding.step] : 'recorded';
  }
}

/**
 * Whether an ObjectCreated event of a stored file reports another write than the one recorded at
 * confirmation. Only the same size and ETag can be the write already known, and only where it may
 * be announced again: a multipart completion (moto and RGW send `Put`, then
 * `CompleteMultipartUpload`), or a single PUT's event for a file still `uploaded` (a redelivery
 * under another ledger key). A verified single-PUT file hears of its object once, so any further
 * event, an unknown ETag included, is a new write and is verified again.
 */
function rewritten(event: StorageEvent, file: FileRecord): boolean {
  if (event.etag === null || file.etag === null || event.etag !== file.etag) return true;
  if (event.size !== null && event.size !== Number(file.size)) return true;
  return file.mode === 'single' && file.status !== 'uploaded';
}

/** One verification job per rewrite event (its ledger key), so a redelivery adds none. */
function recheckJobId(record: StorageEventRecord): string {
  return `verify-${record.fileId}-${createHash('sha256').update(record.eventKey).digest('hex').slice(0, 16)}`;
}

/** A verification job, under the request id of the file's initiation when it was recorded. */
function verifyPayload(file: FileRecord): JobPayloads['media.verify'] {
  return file.requestId ? { v: 1, fileId: file.id, requestId: file.requestId } : { v: 1, fileId: file.id };
}
