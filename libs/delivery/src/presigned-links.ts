import type { FastPresigner } from '@app/storage';
import { DeliveryLinks, LinkLifetimes, OriginalLinkOptions } from './delivery-links';

/** SigV4 presigned URLs live at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * No CDN (`CDN=none`): storage's presigned GETs, as before issue #15, except that a variant's URL
 * is signed as at the start of its window (X-Amz-Date) with the window's end as its expiry, so it
 * too is the same URL within the window and a browser's cache keeps the thumbnail.
 */
export class PresignedLinks extends DeliveryLinks {
  readonly cdn = 'none';

  constructor(
    private readonly options: LinkLifetimes,
    private readonly presigner: FastPresigner,
    now?: () => Date,
  ) {
    super(options, now);
  }

  protected async signVariant(key: string, expiresAt: Date): Promise<string> {
    const lifetime = this.options.variantSeconds + this.options.windowSeconds;
    const signedAt = new Date(expiresAt.getTime() - lifetime * 1000);
    return (await this.presigner.getObject(key, { expiresInSeconds: lifetime, signedAt })).url;
  }

  protected async signOriginal(key: string, options: OriginalLinkOptions): Promise<string> {
    const url = await this.presigner.getObject(key, { ...options, expiresInSeconds: this.options.originalSeconds });
    return url.url;
  }
}
