import { Injectable, Logger } from '@nestjs/common';
import { checkParts, DomainError } from '@app/contracts';
import { FilePartRepository, FileRepository } from '@app/database';
import { JobPayloads, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';
import { FileLifecycleService } from './file-lifecycle.service';

/**
 * Completes multipart uploads in storage. This never marks a file uploaded: storage's own
 * ObjectCreated event does that (storage-events.service.ts), after a HEAD confirms the size.
 */
@Injectable()
export class CompletionService {
  private readonly logger = new Logger(CompletionService.name);

  constructor(
    private readonly files: FileRepository,
    private readonly parts: FilePartRepository,
    private readonly storage: ObjectStorage,
    private readonly lifecycle: FileLifecycleService,
  ) {}

  @OnJob('upload.complete')
  async complete(payload: JobPayloads['upload.complete']): Promise<{ outcome: string }> {
    const file = await this.files.find(payload.fileId);
    // Re-read and check: a repeated or late job finds the upload moved on and does nothing.
    if (!file || file.status !== 'completing') return { outcome: `skipped:${file?.status ?? 'missing'}` };
    if (file.mode === 'single' || !file.s3UploadId) return { outcome: 'awaiting-event' };

    let stored;
    try {
      stored = await this.storage.listParts(file.storageKey, file.s3UploadId);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
      // No such upload: completed by an earlier attempt (its event is on the way) or gone.
      if (await this.storage.head(file.storageKey)) return { outcome: 'already-completed' };
      await this.lifecycle.reject(file, 'multipart_upload_missing');
      return { outcome: 'rejected' };
    }
    try {
      checkParts(file, stored, payload.parts);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The parts changed after the API checked them: the upload cannot be completed as planned.
      await this.lifecycle.reject(file, `${error.code}: ${error.detail}`);
      return { outcome: 'rejected' };
    }
    await this.parts.recordStored(file.id, stored);
    try {
      await this.storage.completeMultipartUpload(file.storageKey, file.s3UploadId, stored);
    } catch (error) {
      // Throttling or an outage is retried (the job's backoff); a refusal (InvalidPart, EntityTooSmall) is final.
      if (error instanceof DomainError && error.code === 'storage_error') {
        await this.lifecycle.reject(file, `storage refused completion: ${error.detail}`);
        return { outcome: 'rejected' };
      }
      throw error;
    }
    this.logger.log({ fileId: file.id, parts: stored.length }, 'multipart upload completed in storage');
    return { outcome: 'completed' };
  }

  @OnJob('upload.part-reported')
  async partReported(payload: JobPayloads['upload.part-reported']): Promise<void> {
    const file = await this.files.find(payload.fileId);
    if (!file || file.mode !== 'multipart' || !['pending', 'uploading'].includes(file.status)) return;
    await this.parts.recordReported(file.id, { partNumber: payload.partNumber, size: payload.size, etag: payload.etag });
  }
}
