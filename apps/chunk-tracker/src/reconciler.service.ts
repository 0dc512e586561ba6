import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { FileRecord, FileRepository } from '@app/database';
import { ACCEPTING_PARTS, AWAITING_BYTES, FileLifecycle, isIn, UPLOAD_COMPLETED, VERIFIABLE } from '@app/lifecycle';
import { JobQueue, OnJob } from '@app/queue';
import { KeyLayout, ObjectStorage, PendingMultipartUpload } from '@app/storage';
import type { TrackerConfig } from './config';

export interface ReconcileReport {
  expired: number;
  orphansAborted: number;
  redriven: number;
  confirmed: number;
  vanished: number;
  lost: number;
}

/** Storage calls of the audit in flight at once. */
const AUDIT_CONCURRENCY = 16;

/**
 * Postgres is the truth; Redis and the SQS stream are how work gets there. This repeatable job
 * makes the database and storage agree again whatever was lost on the way:
 * - uploads past their deadline are expired (quota released, multipart upload aborted);
 * - multipart uploads storage holds that no live upload owns are aborted (the bucket's lifecycle
 *   rule is the slower backstop), after a grace period so an initiation in progress is not hit;
 * - uploads stuck in `completing` (a lost job, a lost Redis) are completed again, or, where storage
 *   already holds the whole object, confirmed from a HEAD;
 * - the storage audit asks storage, a batch a run, least recently asked first, whether it still
 *   holds each stored file's object and each idle upload's multipart upload: what it lost without
 *   an event (or whose event was lost) ends for its owner instead of lingering (issue #11).
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);

  constructor(
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
    private readonly keys: KeyLayout,
    private readonly lifecycle: FileLifecycle,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: TrackerConfig,
  ) {}

  @OnJob('uploads.reconcile')
  async reconcile(): Promise<ReconcileReport> {
    const report = {
      expired: await this.expireOverdue(),
      orphansAborted: await this.abortOrphans(),
      ...(await this.redriveStuck()),
      ...(await this.auditStorage()),
    };
    if (Object.values(report).some(Boolean)) this.logger.log(report, 'reconciled');
    return report;
  }

  /**
   * Every overdue upload, a batch at a time until none is left: a backlog (after an outage, or at
   * scale) is worked off in one run, not a fixed number a minute. A batch that moved nothing ends
   * the run (those rows are being moved by someone else).
   */
  async expireOverdue(now = new Date()): Promise<number> {
    const batchSize = this.config.RECONCILE_BATCH_SIZE;
    let expired = 0;
    for (;;) {
      const batch = await this.files.findOverdue(AWAITING_BYTES, now, batchSize);
      let moved = 0;
      for (const file of batch) if (await this.lifecycle.expire(file)) moved++;
      expired += moved;
      if (batch.length < batchSize || moved === 0) return expired;
    }
  }

  async abortOrphans(now = new Date()): Promise<number> {
    const minAgeMs = this.config.ORPHAN_UPLOAD_MIN_AGE_SECONDS * 1000;
    let aborted = 0;
    // A page of storage's listing at a time, and one query for the files of a page.
    for await (const page of this.storage.multipartUploadPages(this.keys.objectPrefix)) {
      const old = page.filter((u) => !u.initiated || now.getTime() - u.initiated.getTime() >= minAgeMs);
      const fileIds = old.flatMap((u) => this.keys.parseObjectKey(u.key)?.fileId ?? []);
      const files = new Map((fileIds.length ? await this.files.findMany(fileIds) : []).map((f) => [f.id, f]));
      aborted += await this.abortUnowned(old, files);
    }
    return aborted;
  }

  private async abortUnowned(uploads: PendingMultipartUpload[], files: Map<string, FileRecord>): Promise<number> {
    let aborted = 0;
    for (const upload of uploads) {
      const ids = this.keys.parseObjectKey(upload.key);
      const file = ids ? (files.get(ids.fileId) ?? null) : null;
      // Owned: a live upload with this id, or one whose initiation has created the multipart upload
      // but not yet recorded its id (the row is written first, the id right after).
      const owned = file && isIn(AWAITING_BYTES, file.status) && (file.s3UploadId === upload.uploadId || file.s3UploadId === null);
      if (owned) continue;
      await this.storage.abortMultipartUpload(upload.key, upload.uploadId);
      aborted++;
      this.logger.warn({ key: upload.key, uploadId: upload.uploadId, fileId: file?.id, status: file?.status }, 'orphan multipart upload aborted');
    }
    return aborted;
  }

  /**
   * Idle uploads still taking parts whose multipart upload storage no longer knows end `aborted`
   * (`upload_lost_in_storage`: reservation released, owner told); stored files whose object is
   * gone end `deleted` (`object_missing`). Every file visited is marked asked, found or not.
   */
  async auditStorage(now = new Date()): Promise<{ vanished: number; lost: number }> {
    const batch = this.config.STORAGE_AUDIT_BATCH_SIZE;
    if (batch === 0) return { vanished: 0, lost: 0 };
    const settled = new Date(now.getTime() - this.config.RECONCILE_STUCK_SECONDS * 1000);
    const uploads = await this.files.dueForStorageAudit(ACCEPTING_PARTS, settled, settled, batch);
    const stored = await this.files.dueForStorageAudit(
      UPLOAD_COMPLETED,
      new Date(now.getTime() - this.config.STORAGE_AUDIT_INTERVAL_SECONDS * 1000),
      settled,
      Math.max(0, batch - uploads.length),
    );
    let vanished = 0;
    let lost = 0;
    const due = [...uploads, ...stored];
    for (let i = 0; i < due.length; i += AUDIT_CONCURRENCY) {
      const found = await Promise.all(due.slice(i, i + AUDIT_CONCURRENCY).map((file) => this.auditOne(file)));
      vanished += found.filter((f) => f === 'vanished').length;
      lost += found.filter((f) => f === 'lost').length;
    }
    await this.files.markStorageChecked(due.map((f) => f.id));
    return { vanished, lost };
  }

  /** What storage says about one file: its object gone, its multipart upload lost, or fine. */
  private async auditOne(file: FileRecord): Promise<'vanished' | 'lost' | null> {
    if (isIn(UPLOAD_COMPLETED, file.status)) {
      if ((await this.storage.head(file.storageKey)) || !(await this.lifecycle.objectVanished(file))) return null;
      this.logger.warn({ fileId: file.id, key: file.storageKey }, 'stored object missing; file deleted');
      return 'vanished';
    }
    if (file.mode !== 'multipart' || !file.s3UploadId || (await this.storage.hasMultipartUpload(file.storageKey, file.s3UploadId))) return null;
    return (await this.lifecycle.uploadLost(file)) ? 'lost' : null;
  }

  async redriveStuck(now = new Date()): Promise<{ redriven: number; confirmed: number }> {
    const stuckMs = this.config.RECONCILE_STUCK_SECONDS * 1000;
    let redriven = 0;
    let confirmed = 0;
    const batchSize = this.config.RECONCILE_BATCH_SIZE;
    for (const file of await this.files.findStuck('completing', new Date(now.getTime() - stuckMs), batchSize)) {
      const head = await this.storage.head(file.storageKey);
      if (head && head.size === Number(file.size)) {
        // Storage holds the whole object but its event never moved the file: storage's HEAD is its word.
        const moved = await this.lifecycle.confirmUploaded(file, head.etag);
        if (moved) {
          confirmed++;
          await this.jobs.enqueue('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}` });
        }
        continue;
      }
      // One re-drive per stuck period: the job id changes only when another period has passed.
      await this.jobs.enqueue('upload.complete', { v: 1, fileId: file.id }, { jobId: `complete-${file.id}-r${Math.floor(now.getTime() / stuckMs)}` });
      redriven++;
    }
    // Stored files whose verification job was lost (with Redis) or died without a retry left.
    for (const status of VERIFIABLE) {
      for (const file of await this.files.findStuck(status, new Date(now.getTime() - stuckMs), batchSize)) {
        await this.jobs.enqueue('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}-r${Math.floor(now.getTime() / stuckMs)}` });
        redriven++;
      }
    }
    return { redriven, confirmed };
  }
}
