import { formatUrl } from '@aws-sdk/util-format-url';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { encodeKeyPath } from './keys';

export interface PresignedRequest {
  method: 'PUT' | 'GET';
  url: string;
  /** Headers the client must send exactly as given (they are part of the signature). */
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

const SHA256_HEADER = 'x-amz-content-sha256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const CHECKSUM_HEADER = 'x-amz-checksum-sha256';

/**
 * SigV4 query presigning on a prebuilt request. `getSignedUrl` resolves the endpoint through the
 * SDK's middleware stack for every URL (hundreds of microseconds each); this builds the request
 * directly, so a batch of 1,000 part URLs costs milliseconds (bench/presign.bench.ts).
 *
 * Signed headers are sent by the client as real headers: `content-type` and `content-length`
 * for single PUTs, `x-amz-checksum-sha256` whenever the client declared a checksum.
 */
export class FastPresigner {
  private readonly signer: SignatureV4;
  private readonly protocol: string;
  private readonly hostname: string;
  private readonly port: number | undefined;
  private readonly pathPrefix: string;
  private readonly now: () => Date;

  constructor(private readonly options: PresignerOptions) {
    this.signer = new SignatureV4({
      service: 's3',
      region: options.region,
      credentials: memoizeCredentials(options.credentials),
      sha256: Hash.bind(null, 'sha256'),
      // S3 paths are encoded once by us (encodeKeyPath) and must not be double-encoded.
      uriEscapePath: false,
      applyChecksum: false,
    });
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

  /** A single PUT of a whole object: type and exact length signed, checksum if declared. */
  putObject(key: string, signing: PutObjectSigning): Promise<PresignedRequest> {
    const headers: Record<string, string> = {
      'content-type': signing.contentType,
      'content-length': String(signing.contentLength),
    };
    if (signing.checksumSha256) headers[CHECKSUM_HEADER] = signing.checksumSha256;
    return this.sign('PUT', key, {}, headers);
  }

  /** One part of a multipart upload. */
  uploadPart(key: string, uploadId: string, part: PartSigning): Promise<PresignedRequest> {
    const headers: Record<string, string> = {};
    if (part.checksumSha256) headers[CHECKSUM_HEADER] = part.checksumSha256;
    return this.sign('PUT', key, { partNumber: String(part.partNumber), uploadId }, headers);
  }

  /** Many parts of one upload, all with the same signing time and expiry. */
  async uploadParts(key: string, uploadId: string, parts: PartSigning[]): Promise<Array<PresignedRequest & { partNumber: number }>> {
    const signingDate = this.now();
    return Promise.all(
      parts.map(async (part) => {
        const headers: Record<string, string> = {};
        if (part.checksumSha256) headers[CHECKSUM_HEADER] = part.checksumSha256;
        const signed = await this.sign('PUT', key, { partNumber: String(part.partNumber), uploadId }, headers, { signingDate });
        return { ...signed, partNumber: part.partNumber };
      }),
    );
  }

  /** A short-lived GET, optionally overriding the response's disposition and type. */
  getObject(key: string, opts: { contentDisposition?: string; contentType?: string; expiresInSeconds?: number } = {}): Promise<PresignedRequest> {
    const query: Record<string, string> = {};
    if (opts.contentDisposition) query['response-content-disposition'] = opts.contentDisposition;
    if (opts.contentType) query['response-content-type'] = opts.contentType;
    return this.sign('GET', key, query, {}, { expiresInSeconds: opts.expiresInSeconds });
  }

  private async sign(
    method: 'PUT' | 'GET',
    key: string,
    query: Record<string, string>,
    clientHeaders: Record<string, string>,
    opts: { signingDate?: Date; expiresInSeconds?: number } = {},
  ): Promise<PresignedRequest> {
    const host = this.port ? `${this.hostname}:${this.port}` : this.hostname;
    const request = new HttpRequest({
      method,
      protocol: this.protocol,
      hostname: this.hostname,
      port: this.port,
      path: `${this.pathPrefix}${encodeKeyPath(key)}`,
      query,
      headers: { host, [SHA256_HEADER]: UNSIGNED_PAYLOAD, ...clientHeaders },
    });
    const signingDate = opts.signingDate ?? this.now();
    const expiresIn = opts.expiresInSeconds ?? this.options.expiresInSeconds;
    const signOptions = {
      signingDate,
      expiresIn,
      // Checksum headers stay headers (S3 checks them against the body); everything signed.
      unhoistableHeaders: new Set([CHECKSUM_HEADER]),
    };
    const signed = await this.signer.presign(request, signOptions);
    return {
      method,
      url: formatUrl(signed),
      headers: clientHeaders,
      expiresAt: new Date(signingDate.getTime() + expiresIn * 1000),
    };
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
