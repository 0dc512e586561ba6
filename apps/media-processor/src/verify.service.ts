import { Injectable, Logger } from '@nestjs/common';
import { typeAllowed } from '@app/domain';
import { FileRepository, TenantRepository } from '@app/database';
import { FileLifecycle, VERIFIABLE } from '@app/lifecycle';
import { IMAGE_TYPES, inspect, VIDEO_TYPES } from '@app/media';
import { JobPayloads, JobQueue, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';

export type VerifyOutcome = 'ready' | 'rejected' | `routed:${string}` | `skipped:${string}`;

/**
 * Verifies every stored file: one streamed read computes its SHA-256 and sniffs its real type
 * from magic bytes. A declared hash the bytes do not match, or a real type the tenant does not
 * allow (an executable declared as image/jpeg), ends `rejected`: object deleted, quota freed.
 * Re-running the job on the same file gives the same result (a crash mid-way is harmless).
 */
@Injectable()
export class VerifyService {
  private readonly logger = new Logger(VerifyService.name);

  constructor(
    private readonly files: FileRepository,
    private readonly tenants: TenantRepository,
    private readonly storage: ObjectStorage,
    private readonly jobs: JobQueue,
    private readonly lifecycle: FileLifecycle,
  ) {}

  @OnJob('media.verify')
  async verify(payload: JobPayloads['media.verify']): Promise<{ outcome: VerifyOutcome }> {
    // `processing` too: a job interrupted after the transition runs again from the start.
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, VERIFIABLE);
    if (!file) return { outcome: skipped };
    await this.lifecycle.startProcessing(file.id);

    const result = await inspect(await this.storage.openReadStream(file.storageKey));
    const tenant = await this.tenants.find(file.tenantId);
    // Formats with no magic bytes (text, CSV, JSON) cannot be disproved: their declared type stands.
    const realType = result.detectedType ?? file.contentType;
    const problem =
      result.size !== Number(file.size)
        ? `size_mismatch: read ${result.size} bytes, ${Number(file.size)} declared`
        : file.declaredSha256 && file.declaredSha256 !== result.sha256
          ? 'sha256_mismatch: the bytes do not hash to the declared SHA-256'
          : tenant && !typeAllowed(realType, tenant.allowedTypes)
            ? `type_not_allowed: the content is ${realType}, declared ${file.contentType}`
            : null;
    if (problem) {
      await this.lifecycle.rejectContent(file, problem, { detectedType: result.detectedType });
      return { outcome: 'rejected' };
    }

    if (IMAGE_TYPES.has(realType) || VIDEO_TYPES.has(realType)) {
      // Verified; the image or video queue makes the variants and moves it to `ready`.
      await this.files.setVerified(file.id, { sha256: result.sha256, detectedType: realType });
      const job = IMAGE_TYPES.has(realType) ? 'media.image' : 'media.video';
      // rerun: a reprocess or re-drive finds the earlier run's finished job under this id.
      await this.jobs.enqueue(job, { v: 1, fileId: file.id }, { jobId: `${job}-${file.id}`, rerun: true });
      return { outcome: `routed:${job}` };
    }
    const ready = await this.lifecycle.markReady(
      file.id,
      { sha256: result.sha256, detectedType: realType },
      { detectedType: realType, sha256: result.sha256, size: result.size },
    );
    if (ready) this.logger.log({ fileId: file.id, detectedType: realType }, 'file verified');
    return { outcome: ready ? 'ready' : `skipped:${file.status}` };
  }
}
