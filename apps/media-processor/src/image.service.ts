import { Inject, Injectable, Logger } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { APP_CONFIG } from '@app/config';
import type { MediaEnv } from '@app/config';
import { VariantRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { MediaError, renderImage } from '@app/media';
import { JobPayloads, OnJob } from '@app/queue';
import { KeyLayout, ObjectStorage } from '@app/storage';

/**
 * Images: `thumb` and `preview` variants and a placeholder, then `ready`. Variants have fixed keys
 * (variants/<tenant>/<file>/<name>, outside the event prefix) and one row per name, so a re-run
 * overwrites both and leaves no orphan. A bad image is a result (`rejected` with its reason), not
 * an error to retry.
 */
@Injectable()
export class ImageService {
  private readonly logger = new Logger(ImageService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaEnv,
    private readonly lifecycle: FileLifecycle,
    private readonly variants: VariantRepository,
    private readonly storage: ObjectStorage,
    private readonly keys: KeyLayout,
  ) {}

  @OnJob('media.image')
  async render(payload: JobPayloads['media.image']): Promise<{ outcome: string }> {
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'processing');
    if (!file) return { outcome: skipped };
    if (Number(file.size) > this.config.IMAGE_MAX_INPUT_BYTES) {
      await this.lifecycle.markReady(file.id, {}, { variants: [] });
      return { outcome: 'ready-without-variants' };
    }
    const input = await buffer(await this.storage.openReadStream(file.storageKey));
    let rendered;
    try {
      rendered = await renderImage(input, { maxPixels: this.config.IMAGE_MAX_PIXELS });
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      await this.lifecycle.rejectContent(file, `${error.code}: ${error.message}`);
      return { outcome: 'rejected' };
    }
    for (const v of rendered.variants) {
      const key = this.keys.variantKey({ tenantId: file.tenantId, fileId: file.id }, v.name);
      await this.storage.put(key, v.body, v.contentType);
      await this.variants.upsert(file.id, { name: v.name, storageKey: key, contentType: v.contentType, size: v.body.length, width: v.width, height: v.height });
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
