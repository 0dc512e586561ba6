/**
 * The object key layout. Keys are made from server-generated ids only (never a filename), so a
 * user cannot steer where bytes land, and the notification filter matches `objectPrefix`.
 *
 *   <objectPrefix><tenantId>/<fileId>                   the uploaded object (S3 -> SQS events fire here)
 *   <variantPrefix><tenantId>/<fileId>/<name>.<digest>  derived renditions (outside the event filter)
 *
 * A variant's key names its bytes (`digest`: the first 16 hex digits of their SHA-256): it is
 * written once and never changes, so it is served `immutable` and cached for a year, and a
 * re-rendered variant (other bytes) gets a key of its own instead of a stale cache entry (#15).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VARIANT_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const DIGEST = /^[0-9a-f]{16}$/;

export interface KeyLayoutOptions {
  objectPrefix: string;
  variantPrefix: string;
}

export interface ObjectKeyParts {
  tenantId: string;
  fileId: string;
}

export class KeyLayout {
  constructor(private readonly options: KeyLayoutOptions) {}

  get objectPrefix(): string {
    return this.options.objectPrefix;
  }

  objectKey({ tenantId, fileId }: ObjectKeyParts): string {
    assertUuid(tenantId, 'tenantId');
    assertUuid(fileId, 'fileId');
    return `${this.options.objectPrefix}${tenantId}/${fileId}`;
  }

  variantKey(parts: ObjectKeyParts, name: string, digest: string): string {
    assertUuid(parts.tenantId, 'tenantId');
    assertUuid(parts.fileId, 'fileId');
    if (!VARIANT_NAME.test(name)) throw new Error(`invalid variant name: ${name}`);
    if (!DIGEST.test(digest)) throw new Error(`a variant digest is 16 lowercase hex digits, got ${JSON.stringify(digest)}`);
    return `${this.options.variantPrefix}${parts.tenantId}/${parts.fileId}/${name}.${digest}`;
  }

  /** The ids behind an uploaded object's key, or null for any key this platform did not issue. */
  parseObjectKey(key: string): ObjectKeyParts | null {
    if (!key.startsWith(this.options.objectPrefix)) return null;
    const rest = key.slice(this.options.objectPrefix.length).split('/');
    if (rest.length !== 2) return null;
    const [tenantId, fileId] = rest as [string, string];
    return UUID.test(tenantId) && UUID.test(fileId) ? { tenantId, fileId } : null;
  }
}

function assertUuid(value: string, what: string): void {
  if (!UUID.test(value)) throw new Error(`${what} must be a lowercase UUID, got ${JSON.stringify(value)}`);
}

/** S3 path encoding: each segment URI-encoded (RFC 3986), slashes kept. */
export function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}
