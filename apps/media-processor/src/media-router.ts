import { Injectable, Logger } from '@nestjs/common';
import { FileRecord, FileRepository, TenantRecord } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { IMAGE_TYPES, SVG_TYPE, VIDEO_TYPES } from '@app/media';
import { JobQueue } from '@app/queue';

export type MediaOutcome = 'ready' | 'rejected' | 'failed' | `routed:${string}` | `skipped:${string}`;

/** What verification found of a file's bytes. */
export interface VerifiedFacts {
  sha256: string;
  detectedType: string;
  size: number;
}

/**
 * Where a file goes once its bytes passed every check (verification, and the malware scan where
 * the tenant requires one): images and videos to their media queue, which makes the variants and
 * moves them to `ready`; everything else `ready` at once.
 */
@Injectable()
export class MediaRouter {
  private readonly logger = new Logger(MediaRouter.name);

  constructor(
    private readonly files: FileRepository,
    private readonly jobs: JobQueue,
    private readonly lifecycle: FileLifecycle,
  ) {}

  async route(file: FileRecord, facts: VerifiedFacts, tenant: TenantRecord | null): Promise<MediaOutcome> {
    const realType = facts.detectedType;
    // SVG is rasterized only where the tenant opted in; elsewhere it is stored as it is, verified.
    const rasterize = IMAGE_TYPES.has(realType) || (realType === SVG_TYPE && tenant?.allowSvgRendering === true);
    if (rasterize || VIDEO_TYPES.has(realType)) {
      await this.files.setVerified(file.id, { sha256: facts.sha256, detectedType: realType });
      const job = rasterize ? 'media.image' : 'media.video';
      // rerun: a reprocess or re-drive finds the earlier run's finished job under this id.
      await this.jobs.enqueue(job, { v: 1, fileId: file.id }, { jobId: `${job}-${file.id}`, rerun: true });
      return `routed:${job}`;
    }
    const ready = await this.lifecycle.markReady(
      file.id,
      { sha256: facts.sha256, detectedType: realType },
      { detectedType: realType, sha256: facts.sha256, size: facts.size },
    );
    if (ready) this.logger.log({ fileId: file.id, detectedType: realType }, 'file verified');
    return ready ? 'ready' : `skipped:${file.status}`;
  }
}
