import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { FileRecord, FileRepository, TenantRecord, TenantRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ClamdClient, ScanTooLargeError } from '@app/media';
import { MetricsService } from '@app/observability';
import { JobPayloads, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';
import type { MediaProcessorConfig } from './config';
import { MediaOutcome, MediaRouter } from './media-router';

/**
 * The malware scan (issue #15): every verified file of a tenant that requires scanning (the
 * default) is streamed from storage to clamd before it is processed or `ready`. Malware found
 * rejects the file with the signature in its reason and change event (`malware: <signature>`):
 * its object is deleted (or first copied under the quarantine prefix), its quota freed. clamd
 * down or slow is an error, so the job is retried with backoff and the file waits in
 * `processing`; it never becomes ready unscanned. A file larger than clamd takes follows the
 * tenant's `scanTooLarge`.
 */
@Injectable()
export class ScanService {
  private readonly logger = new Logger(ScanService.name);
  private readonly clamd: ClamdClient;
  private readonly scans;

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaProcessorConfig,
    private readonly files: FileRepository,
    private readonly tenants: TenantRepository,
    private readonly storage: ObjectStorage,
    private readonly lifecycle: FileLifecycle,
    private readonly router: MediaRouter,
    metrics: MetricsService,
  ) {
    this.clamd = new ClamdClient({
      host: config.CLAMD_HOST,
      port: config.CLAMD_PORT,
      timeoutMs: config.CLAMD_TIMEOUT_MS,
      streamMaxBytes: config.CLAMD_STREAM_MAX_BYTES,
    });
    this.scans = metrics.counter('malware_scans_total', 'Malware scans by outcome (clean, infected, too_large, unavailable)', ['outcome']);
  }

  @OnJob('media.scan')
  async scan(payload: JobPayloads['media.scan']): Promise<{ outcome: MediaOutcome }> {
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'processing');
    if (!file) return { outcome: skipped };
    const tenant = await this.tenants.find(file.tenantId);
    if (Number(file.size) > this.config.CLAMD_STREAM_MAX_BYTES) return { outcome: await this.tooLarge(file, tenant) };

    let found: string | null;
    try {
      const verdict = await this.clamd.scan(this.storage.readLent(file.storageKey));
      found = verdict.infected ? verdict.signature : null;
    } catch (error) {
      if (error instanceof ScanTooLargeError) return { outcome: await this.tooLarge(file, tenant) };
      this.scans.inc({ outcome: 'unavailable' });
      this.logger.warn({ fileId: file.id, err: error }, 'malware scan not possible now; retried later');
      throw error;
    }
    if (found) {
      this.scans.inc({ outcome: 'infected' });
      return { outcome: await this.infected(file, found) };
    }
    this.scans.inc({ outcome: 'clean' });
    await this.files.setScan(file.id, 'clean');
    return { outcome: await this.router.route(file, this.facts(file), tenant) };
  }

  private async infected(file: FileRecord, signature: string): Promise<MediaOutcome> {
    if (this.config.SCAN_INFECTED_ACTION === 'quarantine') {
      // Kept for inspection where nothing serves it; the lifecycle then deletes the original.
      await this.storage.copy(file.storageKey, `${this.config.S3_QUARANTINE_PREFIX}${file.tenantId}/${file.id}`);
    }
    this.logger.warn({ fileId: file.id, tenantId: file.tenantId, signature }, 'malware found; file rejected');
    return (await this.lifecycle.rejectContent(file, `malware: ${signature}`)) ? 'rejected' : `skipped:${file.status}`;
  }

  /** Larger than clamd takes: rejected, or (where the tenant allows) on its way unscanned and marked so. */
  private async tooLarge(file: FileRecord, tenant: TenantRecord | null): Promise<MediaOutcome> {
    this.scans.inc({ outcome: 'too_large' });
    if (tenant?.scanTooLarge === 'skip') {
      await this.files.setScan(file.id, 'skipped_too_large');
      return this.router.route(file, this.facts(file), tenant);
    }
    const reason = `scan_too_large: ${Number(file.size)} bytes, more than the scanner takes (${this.config.CLAMD_STREAM_MAX_BYTES})`;
    return (await this.lifecycle.rejectContent(file, reason)) ? 'rejected' : `skipped:${file.status}`;
  }

  /** What verification recorded before it queued the scan. */
  private facts(file: FileRecord) {
    return { sha256: file.sha256!, detectedType: file.detectedType ?? file.contentType, size: Number(file.size) };
  }
}
