/**
 * Links to stored bytes, as a CDN (or storage itself) serves them (issue #15, docs/delivery.md).
 *
 * Two kinds, never confused:
 * - a variant (thumbnail, preview, poster, rendition) is public-cacheable: written once under a
 *   content-addressed key with `Cache-Control: immutable`, its link is the same for a whole window
 *   (the expiry is rounded up to the window's end), so browsers and the CDN cache it and a list
 *   page signs nothing new until the window turns;
 * - an original is private: a short-lived link with a safe Content-Disposition, never held in a
 *   cache that another owner's request could be answered from.
 */
export interface DeliveryLink {
  url: string;
  expiresAt: Date;
}

export interface OriginalLinkOptions {
  /** The Content-Disposition the download is served with (download-name.ts makes it safe). */
  contentDisposition: string;
  contentType: string;
}

export interface LinkLifetimes {
  /** Variant links expire at the end of a window of this many seconds, so they stay the same within it. */
  windowSeconds: number;
  /** A variant link lives at least this long (and at most one window more). */
  variantSeconds: number;
  /** An original's link lives this long. */
  originalSeconds: number;
}

/** Entries of the per-process memo of signed variant links (a few hundred bytes each). */
const MEMO_ENTRIES = 10_000;

export abstract class DeliveryLinks {
  /** What the links go through: `none` (storage's presigned GETs), `nginx` or `cloudfront`. */
  abstract readonly cdn: 'none' | 'nginx' | 'cloudfront';
  private readonly memo = new Map<string, DeliveryLink>();

  protected constructor(
    protected readonly lifetimes: LinkLifetimes,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The cacheable link of a variant. Within one window every call returns the same URL; a memo
   * keeps the signatures of the current window (CloudFront's are RSA, about a millisecond each),
   * so a page of 100 files with 3 variants each costs no signing at all after its first view.
   */
  async variant(key: string): Promise<DeliveryLink> {
    const expiresAt = stableExpiry(this.now(), this.lifetimes.variantSeconds, this.lifetimes.windowSeconds);
    const memoKey = `${expiresAt.getTime()} ${key}`;
    const known = this.memo.get(memoKey);
    if (known) return known;
    const link = { url: await this.signVariant(key, expiresAt), expiresAt };
    if (this.memo.size >= MEMO_ENTRIES) this.memo.clear(); // a new window made the old entries useless anyway
    this.memo.set(memoKey, link);
    return link;
  }

  /** A private, short-lived link to an original (or a variant asked for as an attachment). */
  async original(key: string, options: OriginalLinkOptions): Promise<DeliveryLink> {
    const expiresAt = new Date(this.now().getTime() + this.lifetimes.originalSeconds * 1000);
    return { url: await this.signOriginal(key, options, expiresAt), expiresAt };
  }

  protected abstract signVariant(key: string, expiresAt: Date): Promise<string>;
  protected abstract signOriginal(key: string, options: OriginalLinkOptions, expiresAt: Date): Promise<string>;
}

/**
 * The end of the window in which `now + minSeconds` falls: at least `minSeconds` away, at most
 * `minSeconds + windowSeconds`, and the same instant for every `now` within one window.
 */
export function stableExpiry(now: Date, minSeconds: number, windowSeconds: number): Date {
  const windowMs = windowSeconds * 1000;
  return new Date(Math.ceil((now.getTime() + minSeconds * 1000) / windowMs) * windowMs);
}
