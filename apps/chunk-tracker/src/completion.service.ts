import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { checkParts } from '@app/domain';
import { FilePartRepository } from '@app/database';
import { ACCEPTING_PARTS, FileLifecycle } from '@app/lifecycle';
import { JobPayloads, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';

/**
 * Completes multipart uploads in storage. This never marks a file uploaded: storage's own
 * ObjectCreated event does that (storage-events.service.ts), after a HEAD confirms the size.
 */
@Injectable()
export class CompletionService {
  private readonly logger = new Logger(CompletionService.name);

  constructor(
    private readonly parts: FilePartRepository,
    private readonly storage: ObjectStorage,
    private readonly lifecycle: FileLifecycle,
  ) {}

  @OnJob('upload.complete')
  async complete(payload: JobPayloads['upload.complete']): Promise<{ outcome: string }> {
    // A repeated or late job finds the upload moved on and does nothing.
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'completing');
    if (!file) return { outcome: skipped };
    if (file.mode === 'single' || !file.s3UploadId) return { outcome: 'awaiting-event' };

    let stored;
    try {
      stored = await this.storage.listParts(file.storageKey, file.s3UploadId);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
      // No such upload: completed by an earlier attempt (its event is on the way) or gone.
      if (await this.storage.head(file.storageKey)) return { outcome: 'already-completed' };
      await this.lifecycle.rejectUpload(file, 'multipart_upload_missing');
      return { outcome: 'rejected' };
    }
    try {
      checkParts(file, stored, payload.parts);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The parts changed after the API checked them: the upload cannot be completed as planned.
      await this.lifecycle.rejectUpload(file, `${error.code}: ${error.detail}`);
      return { outcome: 'rejected' };
    }
    await this.parts.recordStored(file.id, stored);
    try {
      await this.storage.completeMultipartUpload(file.storageKey, file.s3UploadId, stored);
    } catch (error) {
      // The key already holds an object (If-None-Match): an earlier attempt that completed while its
      // upload id still listed. The declared size there is that completion (its event decides, and
      // verification hashes it); anything else is refused like any other refusal.
      if (error instanceof DomainError && error.extra.storageStatus === 412 && (await this.storage.head(file.storageKey))?.size === Number(file.size)) {
        return { outcome: 'already-completed' };
      }
      // Throttling or an outage is retried (the job's backoff); a refusal (InvalidPart, EntityTooSmall) is final.
      if (error instanceof DomainError && error.code === 'storage_error') {
        await this.lifecycle.rejectUpload(file, `storage refused completion: ${error.detail}`);
        return { outcome: 'rejected' };
      }
      throw error;
    }
    this.logger.log({ fileId: file.id, parts: stored.length }, 'multipart upload completed in storage');
    return { outcome: 'completed' };
  }

  @OnJob('upload.part-reported')
  async partReported(payload: JobPayloads['upload.part-reported']): Promise<void> {
    const { file } = await this.lifecycle.reread(payload.fileId, ACCEPTING_PARTS);
    if (!file || file.mode !== 'multipart') return;
    await this.parts.recordReported(file.id, { partNumber: payload.partNumber, size: payload.size, etag: payload.etag });
  }
}
