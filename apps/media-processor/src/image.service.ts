import { Inject, Injectable, Logger } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { APP_CONFIG } from '@app/config';
import type { MediaEnv } from '@app/config';
import { TenantRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { MediaError, renderImage, SVG_TYPE } from '@app/media';
import { JobPayloads, OnJob } from '@app/queue';
import { ObjectStorage } from '@app/storage';
import { VariantStore } from './variant-store';

/**
 * Images: `thumb` and `preview` variants and a placeholder, then `ready`. Variants are written
 * under content-addressed keys (outside the event prefix) with one row per name, so a re-run
 * replaces both and leaves no orphan (VariantStore). A bad image is a result (`rejected` with its reason), not
 * an error to retry; so is one that outlasts IMAGE_TIMEOUT_SECONDS (`failed`, its bytes kept for a
 * reprocess), and the worker moves on. SVG is drawn only for a tenant that allows it (issue #11).
 */
@Injectable()
export class ImageService {
  private readonly logger = new Logger(ImageService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaEnv,
    private readonly lifecycle: FileLifecycle,
    private readonly variants: VariantStore,
    private readonly storage: ObjectStorage,
    private readonly tenants: TenantRepository,
  ) {}

  @OnJob('media.image')
  async render(payload: JobPayloads['media.image']): Promise<{ outcome: string }> {
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'processing');
    if (!file) return { outcome: skipped };
    // Verification routes SVG here only for a tenant that allows it; the tenant is asked again,
    // since it may have changed its mind while the job waited.
    const svg = file.detectedType === SVG_TYPE;
    const allowSvg = svg && (await this.tenants.find(file.tenantId))?.allowSvgRendering === true;
    if (Number(file.size) > this.config.IMAGE_MAX_INPUT_BYTES || (svg && !allowSvg)) {
      await this.lifecycle.markReady(file.id, {}, { variants: [] });
      return { outcome: 'ready-without-variants' };
    }
    const input = await buffer(await this.storage.openReadStream(file.storageKey));
    let rendered;
    try {
      rendered = await renderImage(input, { maxPixels: this.config.IMAGE_MAX_PIXELS, timeoutSeconds: this.config.IMAGE_TIMEOUT_SECONDS, allowSvg });
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      const reason = `${error.code}: ${error.message}`;
      if (error.code === 'timeout') {
        await this.lifecycle.fail(file, reason);
        return { outcome: 'failed' };
      }
      await this.lifecycle.rejectContent(file, reason);
      return { outcome: 'rejected' };
    }
    for (const v of rendered.variants) {
      const key = await this.variants.write({ tenantId: file.tenantId, fileId: file.id }, v.name, v.body, v.contentType);
      await this.variants.record(file.id, { name: v.name, storageKey: key, contentType: v.contentType, size: v.body.length, width: v.width, height: v.height });
    }
    await this.lifecycle.markReady(
      file.id,
      { width: rendered.width, height: rendered.height, placeholder: rendered.placeholder },
      { width: rendered.width, height: rendered.height, variants: rendered.variants.map((v) => v.name) },
    );
    this.logger.log({ fileId: file.id, width: rendered.width, height: rendered.height, animated: rendered.animated }, 'image processed');
    return { outcome: 'ready' };
  }
}
