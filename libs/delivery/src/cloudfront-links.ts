import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { encodeKeyPath } from '@app/storage';
import { DeliveryLinks, LinkLifetimes, OriginalLinkOptions } from './delivery-links';

export interface CloudFrontLinkOptions extends LinkLifetimes {
  /** The distribution's domain (https://d111111abcdef8.cloudfront.net) or an alias of it. */
  baseUrl: string;
  /** The public key's id in the distribution's trusted key group. */
  keyPairId: string;
  /** The matching RSA private key, PEM. */
  privateKey: string;
}

/**
 * CloudFront signed URLs with a canned policy (deploy/cloudfront/distribution.yaml). The signature
 * is deterministic (RSA PKCS#1 v1.5), so a variant's link within a window is the same string.
 * An original's link carries `response-content-disposition` and `response-content-type`: under
 * the signature, and forwarded to S3 (which CloudFront reaches through origin access control) by
 * the uncached behaviour of the uploads prefix.
 */
export class CloudFrontLinks extends DeliveryLinks {
  readonly cdn = 'cloudfront';
  private readonly base: string;

  constructor(
    private readonly options: CloudFrontLinkOptions,
    now?: () => Date,
  ) {
    super(options, now);
    this.base = options.baseUrl.replace(/\/$/, '');
  }

  protected signVariant(key: string, expiresAt: Date): Promise<string> {
    return Promise.resolve(this.sign(`${this.base}/${encodeKeyPath(key)}`, expiresAt));
  }

  protected signOriginal(key: string, options: OriginalLinkOptions, expiresAt: Date): Promise<string> {
    const url = new URL(`${this.base}/${encodeKeyPath(key)}`);
    url.searchParams.set('response-content-disposition', options.contentDisposition);
    url.searchParams.set('response-content-type', options.contentType);
    return Promise.resolve(this.sign(url.toString(), expiresAt));
  }

  private sign(url: string, expiresAt: Date): string {
    return getSignedUrl({ url, keyPairId: this.options.keyPairId, privateKey: this.options.privateKey, dateLessThan: expiresAt });
  }
}
