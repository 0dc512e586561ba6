import { Injectable, Logger } from '@nestjs/common';
import { FileRepository, FileRow, Prisma } from '@app/database';
import { ObjectStorage } from '@app/storage';

/** How processing ends when it cannot make a file ready: the one place these rules live. */
@Injectable()
export class ProcessingResults {
  private readonly logger = new Logger(ProcessingResults.name);

  constructor(
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
  ) {}

  /**
   * The content itself is unacceptable (a hash or type mismatch, an undecodable image or video):
   * `rejected`, its quota freed (it was counted when storage confirmed it) and its object deleted.
   */
  async reject(file: FileRow, reason: string, data: Prisma.FileUpdateManyMutationInput = {}): Promise<void> {
    const rejected = await this.files.transition(file.id, {
      to: 'rejected',
      from: ['processing'],
      quota: 'free',
      data: { ...data, statusReason: reason },
      change: { type: 'file.rejected', data: { reason } },
    });
    if (!rejected) return;
    this.logger.warn({ fileId: file.id, reason }, 'file rejected by processing');
    await this.storage.delete(file.storageKey);
  }

  /** Processing gave up (a timeout): `failed`, bytes and quota kept for a reprocess. */
  async fail(file: FileRow, reason: string): Promise<void> {
    const failed = await this.files.transition(file.id, {
      to: 'failed',
      from: ['processing'],
      data: { statusReason: reason },
      change: { type: 'file.failed', data: { reason } },
    });
    if (failed) this.logger.warn({ fileId: file.id, reason }, 'file processing failed');
  }
}
