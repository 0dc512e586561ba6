import type { JobsOptions } from 'bullmq';
import type { CarriedContext } from '@app/observability';

/**
 * The one registry of queues, jobs, payloads and their retry policy (style.md, "Jobs and events").
 * Each queue belongs to one service, so ops scale a kind of work by scaling its consumer.
 */
export const QUEUES = {
  /** chunk-tracker: completion, part ledger, reconciliation, housekeeping. */
  tracker: { concurrency: 8 },
  /** media-processor, one queue per kind of work (MEDIA_QUEUES picks which a deployment serves). */
  'media-verify': { concurrency: 4 },
  /** Malware scans: clamd does the CPU work, so a worker waits on it; scaled with clamd. */
  'media-scan': { concurrency: 4 },
  'media-image': { concurrency: 2 },
  'media-video': { concurrency: 1 },
  /** The optional 720p rendition: minutes of CPU per video, so it scales on its own. */
  'media-transcode': { concurrency: 1 },
  /** sync-notifier: change-feed housekeeping. */
  sync: { concurrency: 4 },
  /** sync-notifier: webhook deliveries (network-bound: many at once). */
  webhooks: { concurrency: 32 },
} as const satisfies Record<string, { concurrency: number }>;

export type QueueName = keyof typeof QUEUES;

/**
 * Every payload carries its schema version, so a worker can refuse (not misread) a newer one, and
 * the context of the work that enqueued it (set by JobQueue): the request id its handler logs under
 * and the W3C trace context (`traceparent`, `tracestate`) its span continues (docs/tracing.md).
 */
interface Versioned extends CarriedContext {
  v: 1;
}

export interface JobPayloads {
  /** Complete a multipart upload in storage once the API has checked its parts. */
  'upload.complete': Versioned & { fileId: string; parts?: Array<{ partNumber: number; etag: string }> };
  /** A client's optional report of one uploaded part, for the part ledger. */
  'upload.part-reported': Versioned & { fileId: string; partNumber: number; etag: string; size: number };
  /** Verify a stored file: streamed SHA-256, magic-byte type, the tenant's allowed types. */
  'media.verify': Versioned & { fileId: string };
  /** Scan a verified file for malware (clamd) before it goes on to its media queue or `ready`. */
  'media.scan': Versioned & { fileId: string };
  /** Thumbnail, preview and placeholder of a verified image. */
  'media.image': Versioned & { fileId: string };
  /** Duration, dimensions, codecs and a poster frame of a verified video. */
  'media.video': Versioned & { fileId: string };
  /** The H.264/AAC 720p rendition of a ready video (VIDEO_TRANSCODE). */
  'media.transcode': Versioned & { fileId: string };
  /**
   * Re-run processing: one file, or every ready or failed media file missing a variant (all of
   * them when `variant` is absent), optionally within one tenant.
   */
  'media.reprocess': Versioned & { fileId?: string; variant?: string; tenantId?: string };
  /** Expire overdue uploads, abort orphan multipart uploads, re-drive stuck ones. */
  'uploads.reconcile': Versioned;
  /** Delete processed-storage-event dedup rows past their retention. */
  'storage-events.prune': Versioned;
  /** Delete change-feed events past their retention. */
  'changes.prune': Versioned;
  /** POST one webhook delivery (Standard Webhooks), retried with backoff until its dead end. */
  'webhook.deliver': Versioned & { deliveryId: string };
  /** Re-enqueue pending webhook deliveries whose job was lost (the outbox's backstop). */
  'webhooks.sweep': Versioned;
}

export type JobName = keyof JobPayloads;

export interface JobDefinition {
  queue: QueueName;
  options: JobsOptions;
  /** Run on a schedule (a BullMQ job scheduler), in addition to on demand. */
  everyMs?: number;
}

const housekeeping: JobsOptions = {
  // Transient DB errors deserve a few retries; the next scheduled run is the backstop.
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1_000 },
};

/** Storage calls fail transiently (throttling, restarts): retry with backoff, then leave it to the reconciler. */
const storageWork: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 10_000 },
};

export const JOBS: Record<JobName, JobDefinition> = {
  'upload.complete': { queue: 'tracker', options: storageWork },
  // A lost report only delays the ledger: ListParts is the truth. Few retries.
  'upload.part-reported': { queue: 'tracker', options: { ...storageWork, attempts: 3, removeOnComplete: true } },
  'storage-events.prune': { queue: 'tracker', options: housekeeping, everyMs: 60 * 60_000 },
  // Transient storage errors are retried; a failed check is not an error but a rejection.
  'media.verify': { queue: 'media-verify', options: storageWork },
  // The scanner down or slow is waited out: 12 tries from 2 s doubling (about 2 hours), then the
  // reconciler's re-drive of files stuck in processing. Malware found is a result, not an error.
  'media.scan': { queue: 'media-scan', options: { ...storageWork, attempts: 12, backoff: { type: 'exponential', delay: 2_000 } } },
  // A corrupt image is a result (rejected), not an error: retries are for storage hiccups only.
  'media.image': { queue: 'media-image', options: { ...storageWork, attempts: 4 } },
  'media.video': { queue: 'media-video', options: { ...storageWork, attempts: 3 } },
  'media.transcode': { queue: 'media-transcode', options: { ...storageWork, attempts: 3, backoff: { type: 'exponential', delay: 10_000 } } },
  // A sweep is idempotent (it only moves files that still miss variants): few retries.
  'media.reprocess': { queue: 'media-verify', options: { ...housekeeping, removeOnComplete: { count: 1_000 } } },
  // Each run is complete in itself; a failed run is simply followed by the next one.
  'uploads.reconcile': { queue: 'tracker', options: { ...housekeeping, attempts: 1 }, everyMs: 60_000 },
  'changes.prune': { queue: 'sync', options: housekeeping, everyMs: 60 * 60_000 },
  // The worker's backoff strategy (WEBHOOK_RETRY_BASE_MS, doubling) and its own dead end
  // (WEBHOOK_MAX_ATTEMPTS) decide; `attempts` here is only the ceiling.
  'webhook.deliver': {
    queue: 'webhooks',
    options: { attempts: 50, backoff: { type: 'custom' }, removeOnComplete: { count: 1_000 }, removeOnFail: { count: 10_000 } },
  },
  'webhooks.sweep': { queue: 'sync', options: { ...housekeeping, attempts: 1 }, everyMs: 60_000 },
};

export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((name) => JOBS[name].queue === queue);
}
