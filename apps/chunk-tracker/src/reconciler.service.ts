import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { FileRepository } from '@app/database';
import { AWAITING_BYTES, FileLifecycle, isIn, VERIFIABLE } from '@app/lifecycle';
import { JobQueue, OnJob } from '@app/queue';
import { KeyLayout, ObjectStorage } from '@app/storage';
import type { TrackerConfig } from './config';

const BATCH = 200;

export interface ReconcileReport {
  expired: number;
  orphansAborted: number;
  redriven: number;
  confirmed: number;
}

/**
 * Postgres is the truth; Redis and the SQS stream are how work gets there. This repeatable job
 * makes the database and storage agree again whatever was lost on the way:
 * - uploads past their deadline are expired (quota released, multipart upload aborted);
 * - multipart uploads storage holds that no live upload owns are aborted (the bucket's lifecycle
 *   rule is the slower backstop), after a grace period so an initiation in progress is not hit;
 * - uploads stuck in `completing` (a lost job, a lost Redis) are completed again, or, where storage
 *   already holds the whole object, confirmed from a HEAD.
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
    const report = { expired: await this.expireOverdue(), orphansAborted: await this.abortOrphans(), ...(await this.redriveStuck()) };
    if (report.expired || report.orphansAborted || report.redriven || report.confirmed) this.logger.log(report, 'reconciled');
    return report;
  }

  async expireOverdue(now = new Date()): Promise<number> {
    let expired = 0;
    for (const file of await this.files.findOverdue(AWAITING_BYTES, now, BATCH)) {
      if (await this.lifecycle.expire(file)) expired++;
    }
    return expired;
  }

  async abortOrphans(now = new Date()): Promise<number> {
    const minAgeMs = this.config.ORPHAN_UPLOAD_MIN_AGE_SECONDS * 1000;
    let aborted = 0;
    for (const upload of await this.storage.listMultipartUploads(this.keys.objectPrefix)) {
      if (upload.initiated && now.getTime() - upload.initiated.getTime() < minAgeMs) continue;
      const ids = this.keys.parseObjectKey(upload.key);
      const file = ids ? await this.files.find(ids.fileId) : null;
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

  async redriveStuck(now = new Date()): Promise<{ redriven: number; confirmed: number }> {
    const stuckMs = this.config.RECONCILE_STUCK_SECONDS * 1000;
    let redriven = 0;
    let confirmed = 0;
    for (const file of await this.files.findStuck('completing', new Date(now.getTime() - stuckMs), BATCH)) {
      const head = await this.storage.head(file.storageKey);
      if (head && head.size === Number(file.size)) {
        // Storage holds the whole object but its event never moved the file: storage's HEAD is its word.
        const { file: moved } = await this.lifecycle.confirmUploaded(file, { etag: head.etag, confirmedBy: 'reconciler' });
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
      for (const file of await this.files.findStuck(status, new Date(now.getTime() - stuckMs), BATCH)) {
        await this.jobs.enqueue('media.verify', { v: 1, fileId: file.id }, { jobId: `verify-${file.id}-r${Math.floor(now.getTime() / stuckMs)}` });
        redriven++;
      }
    }
    return { redriven, confirmed };
  }
}
