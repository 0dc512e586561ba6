import { createHash } from 'node:crypto';
import type { FastPresigner } from '@app/storage';
import { encodeKeyPath } from '@app/storage';
import { DeliveryLinks, LinkLifetimes, OriginalLinkOptions } from './delivery-links';

export interface NginxLinkOptions extends LinkLifetimes {
  /** The CDN's public origin (scheme, host, port; no path). */
  baseUrl: string;
  /** Shared with nginx's `secure_link_md5` (deploy/nginx/cdn.conf.template). */
  secret: string;
}

/** Where nginx passes a presigned storage request through, uncached (deploy/nginx/cdn.conf.template). */
export const NGINX_ORIGIN_PASS_PATH = '/_origin';

/**
 * Links for nginx as a CDN (docs/delivery.md): a self-hosted caching proxy in front of the bucket,
 * or the local stand-in.
 *
 * - Variants: `<base>/<key>?e=<expires>&s=<signature>`, nginx's `secure_link` scheme: the
 *   signature is the base64url MD5 of `<expires><uri> <secret>`. nginx refuses a wrong or expired
 *   one (403) before its cache is consulted, and caches by path alone, so every window's link to
 *   an immutable variant hits the same cache entry.
 * - Originals: storage's own presigned GET, sent through nginx's uncached pass-through path
 *   (`/_origin/...`). Storage checks the signature and expiry, the response overrides
 *   (Content-Disposition) stay signed, and nothing an original returns is stored in nginx's cache.
 *   nginx needs no storage credentials for either.
 */
export class NginxLinks extends DeliveryLinks {
  readonly cdn = 'nginx';
  private readonly base: string;

  constructor(
    private readonly options: NginxLinkOptions,
    private readonly presigner: FastPresigner,
    now?: () => Date,
  ) {
    super(options, now);
    this.base = options.baseUrl.replace(/\/$/, '');
  }

  protected signVariant(key: string, expiresAt: Date): Promise<string> {
    const path = `/${encodeKeyPath(key)}`;
    const expires = Math.floor(expiresAt.getTime() / 1000);
    return Promise.resolve(`${this.base}${path}?e=${expires}&s=${secureLinkSignature(path, expires, this.options.secret)}`);
  }

  protected async signOriginal(key: string, options: OriginalLinkOptions): Promise<string> {
    const presigned = await this.presigner.getObject(key, { ...options, expiresInSeconds: this.options.originalSeconds });
    const url = new URL(presigned.url);
    return `${this.base}${NGINX_ORIGIN_PASS_PATH}${url.pathname}${url.search}`;
  }
}

/** nginx's `secure_link_md5 "$secure_link_expires$uri <secret>"`, where $uri is the decoded path. */
export function secureLinkSignature(encodedPath: string, expires: number, secret: string): string {
  return createHash('md5')
    .update(`${expires}${decodeURIComponent(encodedPath)} ${secret}`)
    .digest('base64url');
}
