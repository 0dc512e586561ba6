import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { MediaEnv } from '@app/config';
import { FileRepository } from '@app/database';
import { FileLifecycle, PROCESSED, VERIFIABLE } from '@app/lifecycle';
import { IMAGE_TYPES, VIDEO_TYPES } from '@app/media';
import { JobPayloads, JobQueue, OnJob } from '@app/queue';
import { RENDITION } from './transcode.service';

const PAGE = 500;

/** Which variants a processed file of each kind should have, under this deployment's settings. */
export function expectedVariants(config: Pick<MediaEnv, 'IMAGE_MAX_INPUT_BYTES' | 'VIDEO_TRANSCODE'>) {
  return [
    // Images above IMAGE_MAX_INPUT_BYTES are ready without variants by design: not "missing".
    { types: [...IMAGE_TYPES], variants: ['thumb', 'preview'], maxSize: config.IMAGE_MAX_INPUT_BYTES },
    { types: [...VIDEO_TYPES], variants: ['poster', ...(config.VIDEO_TRANSCODE ? [RENDITION] : [])] },
  ];
}

/**
 * Re-runs processing (POST /v1/admin/reprocess): one file, or a sweep over every ready or failed
 * media file missing a variant. A file goes back to `processing` (a `file.processing` change) and
 * through verification again, whose image and video jobs replace its variants (VariantStore):
 * re-running never leaves a second copy or an orphan object.
 */
@Injectable()
export class ReprocessService {
  private readonly logger = new Logger(ReprocessService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaEnv,
    private readonly files: FileRepository,
    private readonly lifecycle: FileLifecycle,
    private readonly jobs: JobQueue,
  ) {}

  @OnJob('media.reprocess')
  async reprocess(payload: JobPayloads['media.reprocess']): Promise<{ reprocessed: number }> {
    if (payload.fileId) return { reprocessed: (await this.reprocessFile(payload.fileId)) ? 1 : 0 };
    let reprocessed = 0;
    for (const rule of expectedVariants(this.config)) {
      if (payload.variant && !rule.variants.includes(payload.variant)) continue;
      const variants = payload.variant ? [payload.variant] : rule.variants;
      let afterId: string | undefined;
      for (;;) {
        const page = await this.files.findMissingVariants({ ...rule, statuses: PROCESSED, variants, tenantId: payload.tenantId, afterId, limit: PAGE });
        for (const file of page) if (await this.reprocessFile(file.id)) reprocessed++;
        if (page.length < PAGE) break;
        afterId = page[page.length - 1].id;
      }
    }
    this.logger.log({ reprocessed, variant: payload.variant, tenantId: payload.tenantId }, 'reprocess sweep done');
    return { reprocessed };
  }

  /** Back to `processing` and through verification; false for a file that cannot be reprocessed. */
  async reprocessFile(fileId: string): Promise<boolean> {
    if (!(await this.lifecycle.reprocess(fileId))) {
      // Already on its way (stored, or processing): drive it again. Anything else is not media work.
      const { file } = await this.lifecycle.reread(fileId, VERIFIABLE);
      if (!file) return false;
    }
    await this.jobs.enqueue('media.verify', { v: 1, fileId }, { jobId: `verify-${fileId}`, rerun: true });
    return true;
  }
}
