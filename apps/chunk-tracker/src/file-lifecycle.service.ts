import { Injectable, Logger } from '@nestjs/common';
import { FileRepository, FileRow } from '@app/database';
import { ObjectStorage } from '@app/storage';

/** Ends uploads that can never become files, and removes what storage holds for them. */
@Injectable()
export class FileLifecycleService {
  private readonly logger = new Logger(FileLifecycleService.name);

  constructor(
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
  ) {}

  /** rejected + quota released + change event, then the object or multipart upload removed. */
  async reject(file: FileRow, reason: string): Promise<void> {
    const rejected = await this.files.transition(file.id, {
      to: 'rejected',
      quota: 'release',
      data: { statusReason: reason },
      change: { type: 'file.rejected', data: { reason } },
    });
    if (!rejected) return;
    this.logger.warn({ fileId: file.id, reason }, 'upload rejected');
    await this.removeFromStorage(file);
  }

  /** Idempotent: a missing object or upload is already removed. */
  async removeFromStorage(file: Pick<FileRow, 'id' | 'mode' | 'storageKey' | 's3UploadId'>): Promise<void> {
    try {
      if (file.mode === 'multipart' && file.s3UploadId) await this.storage.abortMultipartUpload(file.storageKey, file.s3UploadId);
      await this.storage.delete(file.storageKey);
    } catch (error) {
      this.logger.warn({ err: error, fileId: file.id }, 'storage cleanup failed; the reconciler retries');
    }
  }
}
