import { Injectable, Logger } from '@nestjs/common';
import type { FileStatusName } from '@app/contracts';
import {
  FilePatch,
  FileRecord,
  FileRepository,
  FileTransitionRepository,
  FileWithVariants,
  JsonObject,
  NewUpload,
  QuotaEffect,
  StorageEventRecord,
  TransitionPlan,
} from '@app/database';
import { ObjectStorage } from '@app/storage';
import { AWAITING_BYTES, INITIAL, isIn, LIVE, quotaEffect, StepName, STEPS, STORED } from './state-machine';
import { UploadMetrics } from './upload-metrics';

/** What a handler gets when it re-reads a file: the file, or why there is nothing to do. */
export type Reread = { file: FileRecord; skipped?: undefined } | { file?: undefined; skipped: `skipped:${string}` };

/** A step a storage event causes: whether the event was a redelivery, and the file if it moved. */
export interface EventStep {
  duplicate: boolean;
  file: FileRecord | null;
}

/**
 * What storage showed about an event's file, as its handler decided (after its HEAD): the step
 * to take, or `null` when the event is only recorded.
 */
export type StorageFinding =
  | { step: 'confirmUploaded'; file: FileRecord; etag: string | null }
  | { step: 'rejectUpload'; file: FileRecord; reason: string }
  | { step: 'removedFromStorage'; file: FileRecord }
  | { step: 'recheck'; file: FileRecord; etag: string | null }
  | { step: null };

/** Each step's quota effect per status it may leave, from the state machine (computed once). */
const QUOTA_BY_STEP = Object.fromEntries(
  Object.entries(STEPS).map(([name, step]) => [
    name,
    Object.fromEntries(step.from.flatMap((from) => (quotaEffect(from, step.to) ? [[from, quotaEffect(from, step.to)]] : []))),
  ]),
) as Record<StepName, Partial<Record<FileStatusName, QuotaEffect>>>;

/**
 * The file lifecycle: every status change of every file goes through one of these intents, which
 * take their from-statuses, quota effect and change event from the state machine (STEPS) and
 * apply them as one guarded transaction. A step that finds the file elsewhere changes nothing and
 * answers null: a repeated or late event, job or request is harmless. What a step implies for
 * storage (the bytes of a rejected or expired upload are removed) happens here too, after the
 * commit, so no caller can forget it.
 */
@Injectable()
export class FileLifecycle {
  private readonly logger = new Logger(FileLifecycle.name);

  constructor(
    private readonly files: FileRepository,
    private readonly transitions: FileTransitionRepository,
    private readonly storage: ObjectStorage,
    private readonly metrics: UploadMetrics = new UploadMetrics(),
  ) {}

  /**
   * The re-read-and-skip guard of every job handler: the file as it is now, if it is still in
   * `expected`; otherwise the outcome to report (`skipped:<status>` or `skipped:missing`).
   */
  async reread(fileId: string, expected: FileStatusName | readonly FileStatusName[]): Promise<Reread> {
    const file = await this.files.find(fileId);
    const statuses: readonly FileStatusName[] = typeof expected === 'string' ? [expected] : expected;
    if (!file || !statuses.includes(file.status)) return { skipped: `skipped:${file?.status ?? 'missing'}` };
    return { file };
  }

  // ---- Creation ----

  /** A new upload, its size reserved against the quota; null when the quota would be exceeded. */
  async createUpload(upload: NewUpload): Promise<FileRecord | null> {
    const created = await this.transitions.createUpload(upload, INITIAL.upload, {
      type: 'upload.created',
      data: { filename: upload.filename, size: Number(upload.size), contentType: upload.contentType, mode: upload.mode },
    });
    if (created) this.metrics.initiatedOne(upload.mode);
    else this.metrics.rejectedOne('quota_exceeded');
    return created;
  }

  /**
   * An instant upload: a ready copy sharing `source`'s object and variants, charged to the quota;
   * null when the quota would be exceeded.
   */
  async createInstantCopy(
    source: FileWithVariants,
    copy: { id: string; ownerId: string; filename: string; metadata: JsonObject | undefined },
  ): Promise<FileRecord | null> {
    const data = { filename: copy.filename, size: Number(source.size), deduplicated: true };
    const created = await this.transitions.createCopy(source, copy, INITIAL.instantCopy, [
      { type: 'upload.created', data },
      { type: 'file.ready', data },
    ]);
    if (created) this.metrics.initiatedOne('instant');
    else this.metrics.rejectedOne('quota_exceeded');
    return created;
  }

  // ---- Uploading ----

  /**
   * pending -> uploading, on the first part signed or reported. Every later signing request finds
   * the upload already uploading: that costs no statement at all (the guarded update would find
   * nothing to change anyway).
   */
  async startUploading(file: FileRecord): Promise<FileRecord | null> {
    if (!isIn(STEPS.startUploading.from, file.status)) return null;
    return this.apply('startUploading', file.id);
  }

  /**
   * An upload started without a size (through /companion) learns it from storage: the size is
   * set and reserved in one step, after which the upload is like any other. The file as it is
   * then (already sized, or moved on), `quota_exceeded` when the bytes do not fit the tenant's
   * quota (nothing changed), null when it is gone.
   */
  declareSize(file: FileRecord, size: number): Promise<FileRecord | 'quota_exceeded' | null> {
    return this.transitions.declareSize(file.id, BigInt(size), AWAITING_BYTES);
  }

  markCompleting(fileId: string): Promise<FileRecord | null> {
    return this.apply('markCompleting', fileId);
  }

  /** The reconciler's HEAD found the declared bytes (their event was lost): reserved quota becomes used. */
  async confirmUploaded(file: FileRecord, etag: string | null): Promise<FileRecord | null> {
    const confirmed = await this.transitions.apply(this.confirmPlan(file, etag, 'confirmed_by_reconciler'));
    if (confirmed) this.metrics.completedOne(confirmed.size);
    return confirmed;
  }

  /** Storage holds other bytes or parts than declared: rejected, reservation released, bytes removed. */
  async rejectUpload(file: FileRecord, reason: string): Promise<FileRecord | null> {
    const rejected = await this.transitions.apply(this.rejectPlan(file, reason));
    if (rejected) await this.afterRejectUpload(file, reason);
    return rejected;
  }

  /**
   * Cancelled by the client (or storage refused to start it): reservation released, whatever
   * storage holds of it removed. `storage_unavailable` is told to the owner as the reason.
   */
  async abort(file: FileRecord, reason: 'aborted_by_client' | 'storage_unavailable'): Promise<FileRecord | null> {
    const aborted = await this.apply('abort', file.id, { patch: { statusReason: reason }, data: reason === 'aborted_by_client' ? {} : { reason } });
    if (!aborted) return null;
    this.metrics.abortedOne(reason);
    await this.removeUploadBytes(file);
    return aborted;
  }

  /**
   * Storage no longer holds the multipart upload (a bucket lifecycle rule or a hand removed it)
   * while it still took parts: it can never be completed. Reservation released, any parts left
   * removed, the owner told (`upload.aborted` with the reason). Null once it moved on (to
   * `completing`, whose completion removes the upload id itself).
   */
  async uploadLost(file: FileRecord): Promise<FileRecord | null> {
    const reason = 'upload_lost_in_storage';
    const lost = await this.apply('loseUpload', file.id, { patch: { statusReason: reason }, data: { reason } });
    if (!lost) return null;
    this.metrics.abortedOne(reason);
    this.logger.warn({ fileId: file.id, s3UploadId: file.s3UploadId }, 'storage lost a multipart upload; aborted');
    await this.removeUploadBytes(file);
    return lost;
  }

  /**
   * The reconciler's audit found no object for a stored file (lost without an event, or its event
   * lost): the file is gone for its owner too, as when storage's removal event arrives.
   */
  objectVanished(file: FileRecord): Promise<FileRecord | null> {
    return this.transitions.apply(this.vanishedPlan(file, 'object_missing'));
  }

  /** Not completed before its deadline: reservation released, what storage holds removed. */
  async expire(file: FileRecord): Promise<FileRecord | null> {
    const expired = await this.apply('expire', file.id, { patch: { statusReason: 'deadline_passed' } });
    if (!expired) return null;
    this.metrics.expiredOne();
    await this.removeUploadBytes(file);
    return expired;
  }

  // ---- Processing ----

  startProcessing(fileId: string): Promise<FileRecord | null> {
    return this.apply('startProcessing', fileId);
  }

  reprocess(fileId: string): Promise<FileRecord | null> {
    return this.apply('reprocess', fileId, { patch: { statusReason: 'reprocess' }, data: { reason: 'reprocess' } });
  }

  /** Processing is done: the facts it found, and what the owner's change says about them. */
  markReady(fileId: string, facts: FilePatch, change: Record<string, unknown>): Promise<FileRecord | null> {
    return this.apply('markReady', fileId, { patch: { ...facts, readyAt: new Date() }, data: change });
  }

  /**
   * The content itself is unacceptable (a hash or type mismatch, an undecodable image or video):
   * rejected, its quota freed, and its objects deleted unless an instant-upload copy still uses them.
   */
  async rejectContent(file: FileRecord, reason: string, facts: FilePatch = {}): Promise<FileRecord | null> {
    const plan = this.plan('rejectContent', file.id, { patch: { ...facts, statusReason: reason }, data: { reason } });
    const released = await this.transitions.applyAndRelease(plan, LIVE);
    if (!released) return null;
    this.metrics.rejectedOne(reason);
    this.logger.warn({ fileId: file.id, reason }, 'file rejected by processing');
    await this.removeObjects(file.id, released.orphanKeys);
    return released.file;
  }

  /**
   * A verified file whose stored bytes no longer hash to its sha256 (its object was written again
   * after verification, issue #11): failed with `content_changed`, so it is never `ready`, nor an
   * instant-upload source, with a hash its bytes do not have, and so are its instant-upload copies.
   * Bytes and quota kept.
   */
  async contentChanged(file: FileRecord): Promise<FileRecord | null> {
    const failed = await this.fail(file, 'content_changed');
    // Instant-upload copies share the object, so its new bytes are theirs too: each leaves `ready`
    // (`recheck`, then `fail`), its owner told like the source's.
    for (const copy of await this.files.findSharingObject(file.storageKey, file.id, STORED)) {
      await this.apply('recheck', copy.id, { patch: { statusReason: 'object_rewritten' }, data: { reason: 'object_rewritten' } });
      await this.fail(copy, 'content_changed');
    }
    return failed;
  }

  /** Processing gave up (a timeout): failed, bytes and quota kept for a reprocess. */
  async fail(file: FileRecord, reason: string): Promise<FileRecord | null> {
    const failed = await this.apply('fail', file.id, { patch: { statusReason: reason }, data: { reason } });
    if (failed) this.logger.warn({ fileId: file.id, reason }, 'file processing failed');
    return failed;
  }

  // ---- Deletion ----

  /** Deleted by its owner: quota freed, and its objects removed once no other live file uses them. */
  async delete(file: FileRecord): Promise<FileRecord | null> {
    const plan = this.plan('delete', file.id, { patch: { deletedAt: new Date(), statusReason: 'deleted_by_owner' } });
    const released = await this.transitions.applyAndRelease(plan, LIVE);
    if (!released) return null;
    await this.removeObjects(file.id, released.orphanKeys);
    return released.file;
  }

  // ---- Storage events ----

  /**
   * The steps a batch of storage events causes, each decided by its handler from what storage
   * showed, committed in one transaction together with every event's dedup record. An event
   * recorded before (an SQS redelivery) changes nothing and answers `duplicate`; a step that finds
   * its file moved on answers `file: null`. One answer per event, in order. After the commit,
   * the bytes of rejected uploads are removed.
   */
  async applyStorageEvents(batch: ReadonlyArray<{ event: StorageEventRecord; finding: StorageFinding }>): Promise<EventStep[]> {
    const results = await this.transitions.applyForEvents(batch.map(({ event, finding }) => ({ event, plan: this.findingPlan(finding) })));
    for (const [i, { finding }] of batch.entries()) {
      const moved = results[i].file;
      if (!moved) continue;
      if (finding.step === 'confirmUploaded') this.metrics.completedOne(moved.size);
      if (finding.step === 'rejectUpload') await this.afterRejectUpload(finding.file, finding.reason);
    }
    return results;
  }

  private findingPlan(finding: StorageFinding): TransitionPlan | null {
    switch (finding.step) {
      case 'confirmUploaded':
        return this.confirmPlan(finding.file, finding.etag);
      case 'rejectUpload':
        return this.rejectPlan(finding.file, finding.reason);
      case 'recheck': {
        // Another write of a stored file's object: not `ready` until verified again (the handler
        // queues that); the write's ETag is recorded so a redelivery of its event finds it known.
        const reason = 'object_rewritten';
        return this.plan('recheck', finding.file.id, { patch: { etag: finding.etag, statusReason: reason }, data: { reason } });
      }
      case 'removedFromStorage':
        // Its object was removed behind the platform's back: the file is gone for its owner too.
        return this.vanishedPlan(finding.file, 'removed_from_storage');
      case null:
        return null;
    }
  }

  /** Storage holds the declared bytes: reserved quota becomes used. */
  private confirmPlan(file: FileRecord, etag: string | null, statusReason?: string): TransitionPlan {
    return this.plan('confirmUploaded', file.id, {
      patch: { etag, uploadedAt: new Date(), ...(statusReason ? { statusReason } : {}) },
      data: { size: Number(file.size), contentType: file.contentType, filename: file.filename },
    });
  }

  private rejectPlan(file: FileRecord, reason: string): TransitionPlan {
    return this.plan('rejectUpload', file.id, { patch: { statusReason: reason }, data: { reason } });
  }

  private async afterRejectUpload(file: FileRecord, reason: string): Promise<void> {
    this.metrics.rejectedOne(reason);
    this.logger.warn({ fileId: file.id, reason }, 'upload rejected');
    await this.removeUploadBytes(file);
  }

  // ---- Storage after a step (idempotent: what is gone is removed) ----

  /** The object or multipart upload of an upload that will never be a file. */
  private async removeUploadBytes(file: Pick<FileRecord, 'id' | 'mode' | 'storageKey' | 's3UploadId'>): Promise<void> {
    try {
      if (file.mode === 'multipart' && file.s3UploadId) await this.storage.abortMultipartUpload(file.storageKey, file.s3UploadId);
      await this.storage.delete(file.storageKey);
    } catch (error) {
      this.logger.warn({ err: error, fileId: file.id }, 'storage cleanup failed; the reconciler retries');
    }
  }

  private async removeObjects(fileId: string, keys: string[]): Promise<void> {
    try {
      await Promise.all(keys.map((key) => this.storage.delete(key)));
    } catch (error) {
      this.logger.warn({ err: error, fileId }, 'storage cleanup after the step failed; left to the reconciler');
    }
  }

  private vanishedPlan(file: FileRecord, reason: 'removed_from_storage' | 'object_missing'): TransitionPlan {
    return this.plan('removedFromStorage', file.id, { patch: { statusReason: reason, deletedAt: new Date() }, data: { reason } });
  }

  private apply(step: StepName, fileId: string, details?: { patch?: FilePatch; data?: Record<string, unknown> }): Promise<FileRecord | null> {
    return this.transitions.apply(this.plan(step, fileId, details));
  }

  private plan(step: StepName, fileId: string, details: { patch?: FilePatch; data?: Record<string, unknown> } = {}): TransitionPlan {
    const rule = STEPS[step];
    return {
      fileId,
      from: rule.from,
      to: rule.to,
      quota: QUOTA_BY_STEP[step],
      patch: details.patch ?? {},
      change: rule.change ? { type: rule.change, data: details.data ?? {} } : null,
    };
  }
}
