import { Injectable } from '@nestjs/common';
import { typeAllowed } from '@app/domain';
import { FileRepository, TenantRepository } from '@app/database';
import { FileLifecycle, VERIFIABLE } from '@app/lifecycle';
import { declaredTypeAgrees, inspect, verifiedType } from '@app/media';
import { JobPayloads, JobQueue, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';
import { MediaOutcome, MediaRouter } from './media-router';

/**
 * Verifies every stored file: one streamed read computes its SHA-256 and detects its real type
 * (magic bytes, and markup for text formats such as SVG). A file that passes goes to the malware
 * scan where its tenant requires one (the default), else on to its media queue or `ready`. A declared hash the bytes do not match,
 * a real type the tenant does not allow (an executable declared as image/jpeg), or a declared type
 * the content disagrees with (an SVG declared as image/png, issue #11) ends `rejected`: object
 * deleted, quota freed. Re-running the job on the same file gives the same result (a crash mid-way
 * is harmless).
 */
@Injectable()
export class VerifyService {
  constructor(
    private readonly files: FileRepository,
    private readonly tenants: TenantRepository,
    private readonly storage: ObjectStorage,
    private readonly jobs: JobQueue,
    private readonly lifecycle: FileLifecycle,
    private readonly router: MediaRouter,
  ) {}

  @OnJob('media.verify')
  async verify(payload: JobPayloads['media.verify']): Promise<{ outcome: MediaOutcome }> {
    // `processing` too: a job interrupted after the transition runs again from the start.
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, VERIFIABLE);
    if (!file) return { outcome: skipped };
    await this.lifecycle.startProcessing(file.id);

    const result = await inspect(await this.storage.openReadStream(file.storageKey));
    // Verified before (chunk-tracker rechecks a file whose object was written again), and the bytes
    // now hash differently: they changed after verification (issue #11). The file fails rather than
    // becoming `ready` again with bytes nobody declared.
    if (file.sha256 && file.sha256 !== result.sha256) {
      await this.lifecycle.contentChanged(file);
      return { outcome: 'failed' };
    }
    const tenant = await this.tenants.find(file.tenantId);
    // Plain text (CSV, JSON) and unknown binary formats cannot be told apart further: their
    // declared type stands. Everything the bytes name is judged as what they are.
    const realType = verifiedType(file.contentType, result.detectedType);
    const problem =
      result.size !== Number(file.size)
        ? `size_mismatch: read ${result.size} bytes, ${Number(file.size)} declared`
        : file.declaredSha256 && file.declaredSha256 !== result.sha256
          ? 'sha256_mismatch: the bytes do not hash to the declared SHA-256'
          : tenant && !typeAllowed(realType, tenant.allowedTypes)
            ? `type_not_allowed: the content is ${realType}, declared ${file.contentType}`
            : !declaredTypeAgrees(file.contentType, result.detectedType)
              ? `type_mismatch: declared ${file.contentType}, content is ${result.detectedType}`
              : null;
    if (problem) {
      await this.lifecycle.rejectContent(file, problem, { detectedType: result.detectedType });
      return { outcome: 'rejected' };
    }

    const facts = { sha256: result.sha256, detectedType: realType, size: result.size };
    if (tenant?.scanUploads !== false) {
      // Not ready (nor processed) before a clean malware scan: its queue routes it on (issue #15).
      await this.files.setVerified(file.id, { sha256: facts.sha256, detectedType: realType });
      await this.jobs.enqueue('media.scan', { v: 1, fileId: file.id }, { jobId: `media.scan-${file.id}`, rerun: true });
      return { outcome: 'routed:media.scan' };
    }
    return { outcome: await this.router.route(file, facts, tenant) };
  }
}
