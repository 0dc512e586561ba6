import { Hash } from '@smithy/hash-node';
import type { HttpRequest } from '@smithy/protocol-http';
import { createScope, getCanonicalQuery, getSigningKey } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createHash, createHmac, createSecretKey, KeyObject } from 'node:crypto';
import { ObjectEncryption, sseHeaders } from './encryption';
import { encodeKeyPath } from './keys';

export interface PresignedRequest {
  method: 'PUT' | 'GET';
  url: string;
  /**
   * Headers the client must send exactly as given (they are part of the signature). Never one a
   * browser refuses to set: a signed Content-Length is left out (the client's HTTP stack sends it).
   */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface PresignerOptions {
  bucket: string;
  region: string;
  /** Custom endpoint (emulator, S3-compatible store); unset means AWS S3 itself. */
  endpoint?: string;
  forcePathStyle: boolean;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  expiresInSeconds: number;
  /** SSE-KMS (S3_SSE=aws:kms): its headers are signed into every single-PUT URL (encryption.ts). */
  encryption?: ObjectEncryption;
  now?: () => Date;
}

export interface PutObjectSigning {
  contentType: string;
  contentLength: number;
  /** base64 SHA-256 of the whole body; S3 rejects a body that does not match. */
  checksumSha256?: string;
}

export interface PartSigning {
  partNumber: number;
  /** base64 SHA-256 of this part. */
  checksumSha256?: string;
}

const SHA256_QUERY = 'X-Amz-Content-Sha256';
/** Stands for the part number in a batch's canonical query template (letters only: escaping leaves it as is). */
const PART_MARK = 'PARTNUMBERMARK';

interface SigningContext {
  signingDate: Date;
  expiresIn: number;
  longDate: string;
  scope: string;
  credentials: AwsCredentialIdentity;
  key: KeyObject;
}
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const CHECKSUM_HEADER = 'x-amz-checksum-sha256';
/**
 * S3 conditional write: the PUT succeeds only while the key holds no object, so a single-PUT URL
 * is single-use for its whole lifetime (412 Precondition Failed once the object exists). Without
 * it a URL reused within its expiry overwrites a verified file (issue #11).
 */
const IF_NONE_MATCH_HEADER = 'if-none-match';
const CONTENT_LENGTH_HEADER = 'content-length';

/**
 * SigV4 query presigning for S3, on @smithy/signature-v4's own building blocks (scope, cached
 * signing key, canonical query). `getSignedUrl` runs the SDK's middleware stack and endpoint
 * resolution for every URL, and `SignatureV4.presign` clones and re-processes a request per URL;
 * here each URL costs one canonical request, one SHA-256 and one HMAC, so 1,000 part URLs take
 * a few milliseconds (bench/presign.bench.ts). presigner.spec.ts re-verifies every kind of URL
 * against `SignatureV4.presign` itself.
 *
 * Signed headers are sent by the client as real headers: `content-type`, `content-length` and
 * `if-none-match: *` (never overwrite) for single PUTs, `x-amz-checksum-sha256` whenever the
 * client declared a checksum. `content-length` is signed but not listed in `headers`: browsers
 * refuse to set it (a forbidden header name, fetch.spec.whatwg.org) and set it from the body, as
 * every HTTP client does, so storage still takes exactly the declared bytes (#14). With SSE-KMS,
 * single PUTs also carry `x-amz-server-side-encryption` and its key id (issue #15); parts carry
 * none: CreateMultipartUpload sets a multipart upload's encryption, and UploadPart takes no SSE-KMS
 * headers (only SSE-C's).
 */
export class FastPresigner {
  private readonly credentials: AwsCredentialIdentityProvider;
  private keyCache: { date: string; credentials: AwsCredentialIdentity; key: KeyObject } | null = null;
  private readonly protocol: string;
  private readonly hostname: string;
  private readonly port: number | undefined;
  private readonly pathPrefix: string;
  private readonly now: () => Date;

  constructor(private readonly options: PresignerOptions) {
    this.credentials = memoizeCredentials(options.credentials);
    const endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    this.protocol = endpoint.protocol;
    this.port = endpoint.port ? Number(endpoint.port) : undefined;
    const basePath = endpoint.pathname.replace(/\/$/, '');
    if (options.forcePathStyle) {
      this.hostname = endpoint.hostname;
      this.pathPrefix = `${basePath}/${options.bucket}/`;
    } else {
      this.hostname = `${options.bucket}.${endpoint.hostname}`;
      this.pathPrefix = `${basePath}/`;
    }
    this.now = options.now ?? (() => new Date());
  }

  get expiresInSeconds(): number {
    return this.options.expiresInSeconds;
  }

  /**
   * A single PUT of a whole object: type and exact length signed, checksum if declared,
   * `If-None-Match: *`, so the URL writes the key once and can never overwrite what was verified,
   * and the SSE-KMS key when configured.
   */
  putObject(key: string, signing: PutObjectSigning): Promise<PresignedRequest> {
    const headers: Record<string, string> = { 'content-type': signing.contentType, [IF_NONE_MATCH_HEADER]: '*', ...sseHeaders(this.options.encryption) };
    if (signing.checksumSha256) headers[CHECKSUM_HEADER] = signing.checksumSha256;
    return this.sign('PUT', key, {}, headers, { signedOnly: { [CONTENT_LENGTH_HEADER]: String(signing.contentLength) } });
  }

  /**
   * Many parts of one upload, all with the same signing time and expiry. Their canonical queries
   * differ only in partNumber, so the query is canonicalised once per batch (per set of signed
   * headers) and each URL costs a SHA-256 and an HMAC.
   */
  async uploadParts(key: string, uploadId: string, parts: PartSigning[]): Promise<Array<PresignedRequest & { partNumber: number }>> {
    const ctx = await this.context(this.now(), this.options.expiresInSeconds);
    const templates = new Map<string, string>();
    return parts.map((part) => {
      const headers: Record<string, string> = { host: this.host };
      if (part.checksumSha256) headers[CHECKSUM_HEADER] = part.checksumSha256;
      const signedHeaders = Object.keys(headers).sort().join(';');
      let template = templates.get(signedHeaders);
      if (!template) {
        template = this.canonicalQuery(ctx, { partNumber: PART_MARK, uploadId }, signedHeaders);
        templates.set(signedHeaders, template);
      }
      const query = template.replace(`partNumber=${PART_MARK}`, `partNumber=${part.partNumber}`);
      const { host: _host, ...clientHeaders } = headers;
      return { ...this.finish(ctx, 'PUT', this.path(key), query, headers, signedHeaders, clientHeaders), partNumber: part.partNumber };
    });
  }

  /**
   * A short-lived GET, optionally overriding the response's disposition and type. `signedAt` (in
   * the past) makes the same URL for every call with the same arguments: delivery signs a
   * variant's link as at the start of its window (libs/delivery).
   */
  getObject(
    key: string,
    opts: { contentDisposition?: string; contentType?: string; expiresInSeconds?: number; signedAt?: Date } = {},
  ): Promise<PresignedRequest> {
    const query: Record<string, string> = {};
    if (opts.contentDisposition) query['response-content-disposition'] = opts.contentDisposition;
    if (opts.contentType) query['response-content-type'] = opts.contentType;
    return this.sign('GET', key, query, {}, { expiresInSeconds: opts.expiresInSeconds, signedAt: opts.signedAt });
  }

  /** Date, scope and the day's signing key (a KeyObject, derived once per day and credentials). */
  private async context(signingDate: Date, expiresIn: number): Promise<SigningContext> {
    const longDate = signingDate
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const shortDate = longDate.slice(0, 8);
    const credentials = await this.credentials();
    if (this.keyCache?.date !== shortDate || this.keyCache.credentials !== credentials) {
      // getSigningKey computes an HMAC for its own cache key on every call, and an HMAC with a raw
      // key converts it each time: both would dominate a batch, so the key is kept ready here.
      const raw = await getSigningKey(Hash.bind(null, 'sha256'), credentials, shortDate, this.options.region, 's3');
      this.keyCache = { date: shortDate, credentials, key: createSecretKey(raw) };
    }
    return { signingDate, expiresIn, longDate, credentials, scope: createScope(shortDate, this.options.region, 's3'), key: this.keyCache.key };
  }

  private get host(): string {
    return this.port ? `${this.hostname}:${this.port}` : this.hostname;
  }

  /** S3 paths are encoded once (encodeKeyPath) and signed as they are sent: no double encoding. */
  private path(key: string): string {
    return `${this.pathPrefix}${encodeKeyPath(key)}`;
  }

  private canonicalQuery(ctx: SigningContext, query: Record<string, string>, signedHeaders: string): string {
    return getCanonicalQuery({
      query: {
        ...query,
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        [SHA256_QUERY]: UNSIGNED_PAYLOAD,
        'X-Amz-Credential': `${ctx.credentials.accessKeyId}/${ctx.scope}`,
        'X-Amz-Date': ctx.longDate,
        'X-Amz-Expires': String(ctx.expiresIn),
        'X-Amz-SignedHeaders': signedHeaders,
        ...(ctx.credentials.sessionToken ? { 'X-Amz-Security-Token': ctx.credentials.sessionToken } : {}),
      },
    } as unknown as HttpRequest);
  }

  private finish(
    ctx: SigningContext,
    method: 'PUT' | 'GET',
    path: string,
    canonicalQuery: string,
    headers: Record<string, string>,
    signedHeaders: string,
    clientHeaders: Record<string, string>,
  ): PresignedRequest {
    const canonicalHeaders = signedHeaders
      .split(';')
      .map((name) => `${name}:${headers[name].trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const canonicalRequest = `${method}\n${path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${ctx.longDate}\n${ctx.scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', ctx.key).update(stringToSign).digest('hex');
    return {
      method,
      url: `${this.protocol}//${this.host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`,
      headers: clientHeaders,
      expiresAt: new Date(ctx.signingDate.getTime() + ctx.expiresIn * 1000),
    };
  }

  private async sign(
    method: 'PUT' | 'GET',
    key: string,
    query: Record<string, string>,
    clientHeaders: Record<string, string>,
    opts: { expiresInSeconds?: number; signedOnly?: Record<string, string>; signedAt?: Date } = {},
  ): Promise<PresignedRequest> {
    const ctx = await this.context(opts.signedAt ?? this.now(), opts.expiresInSeconds ?? this.options.expiresInSeconds);
    // signedOnly: signed, but sent by the client's HTTP stack rather than listed for it (host, content-length).
    const headers: Record<string, string> = { host: this.host, ...opts.signedOnly, ...clientHeaders };
    const signedHeaders = Object.keys(headers).sort().join(';');
    return this.finish(ctx, method, this.path(key), this.canonicalQuery(ctx, query, signedHeaders), headers, signedHeaders, clientHeaders);
  }
}

/** Refresh credentials a few minutes before they expire; static credentials are returned as is. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export function memoizeCredentials(source: AwsCredentialIdentity | AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  if (typeof source !== 'function') return () => Promise.resolve(source);
  let cached: Promise<AwsCredentialIdentity> | null = null;
  let expiresAt = 0;
  return () => {
    if (!cached || Date.now() >= expiresAt) {
      cached = source().then(
        (identity) => {
          expiresAt = identity.expiration ? identity.expiration.getTime() - REFRESH_MARGIN_MS : Number.POSITIVE_INFINITY;
          return identity;
        },
        (error: unknown) => {
          cached = null;
          throw error;
        },
      );
      expiresAt = Number.POSITIVE_INFINITY;
    }
    return cached;
  };
}
