import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  CopyObjectCommand,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { DomainError } from '@app/contracts';
import type { ObjectEncryption } from './encryption';
import { fromStorageError } from './errors';
import { lentBody, LENT_URL_EXPIRES_SECONDS, type LentBytes } from './lent-read';

export interface ObjectHead {
  size: number;
  etag: string | null;
  contentType: string | null;
  lastModified: Date | null;
}

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
  checksumSha256: string | null;
}

export interface PendingMultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date | null;
}

const isPreconditionFailed = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'PreconditionFailed' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412);

const unquote = (etag: string | undefined | null): string | null => (etag ? etag.replace(/^"|"$/g, '') : null);

/**
 * Control-plane calls to the bucket: never the bytes of an upload (those go client -> S3 through
 * presigned URLs), except `openReadStream` for the workers that verify and transform content.
 * Every SDK error leaves here as a coded DomainError (errors.ts). With SSE-KMS (`encryption`),
 * every write it starts names the key: the services' own puts and copies, and
 * CreateMultipartUpload, whose encryption a multipart upload's parts take (issue #15).
 */
export class ObjectStorage {
  /** The SDK's SSE-KMS parameters of every write, or none (the bucket's default encryption applies). */
  private readonly sse: { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string };

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    options: { encryption?: ObjectEncryption } = {},
  ) {
    this.sse = options.encryption ? { ServerSideEncryption: options.encryption.algorithm, SSEKMSKeyId: options.encryption.kmsKeyId } : {};
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw fromStorageError(error, operation);
    }
  }

  async checkBucket(): Promise<void> {
    await this.call('HeadBucket', () => this.s3.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** null when the object does not exist. */
  async head(key: string): Promise<ObjectHead | null> {
    try {
      const out = await this.call('HeadObject', () => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { size: out.ContentLength ?? 0, etag: unquote(out.ETag), contentType: out.ContentType ?? null, lastModified: out.LastModified ?? null };
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'not_found') return null;
      throw error;
    }
  }

  /**
   * Writes a small derived object (a thumbnail, a poster) that the workers made. `cacheControl` is
   * stored with it and served by storage and every CDN in front of it.
   */
  async put(key: string, body: Uint8Array, contentType: string, opts: { cacheControl?: string } = {}): Promise<void> {
    await this.call('PutObject', () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.byteLength,
          CacheControl: opts.cacheControl,
          ...this.sse,
        }),
      ),
    );
  }

  /**
   * Streams a local file into one PutObject (up to S3's 5 GiB single-PUT limit: renditions and
   * other derived files, never user uploads, which go multipart from the client).
   */
  async putFile(key: string, file: string, contentType: string, opts: { cacheControl?: string } = {}): Promise<number> {
    const { size } = await stat(file);
    await this.call('PutObject', () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(file),
          ContentType: contentType,
          ContentLength: size,
          CacheControl: opts.cacheControl,
          ...this.sse,
        }),
      ),
    );
    return size;
  }

  /**
   * A server-side copy within the bucket (up to 5 GiB, S3's limit for one CopyObject): nothing
   * passes through this process. Used to keep infected files under the quarantine prefix.
   */
  async copy(from: string, to: string): Promise<void> {
    await this.call('CopyObject', () =>
      this.s3.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`, ...this.sse }),
      ),
    );
  }

  /** Idempotent: deleting a missing object succeeds, as in S3. */
  async delete(key: string): Promise<void> {
    await this.call('DeleteObject', () => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  async openReadStream(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const out = await this.call('GetObject', () =>
      this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined })),
    );
    return out.Body as Readable;
  }

  /**
   * The object's bytes for a consumer that passes them on without keeping them (the malware scan
   * sends them to clamd), read off the connection straight into a fixed set of buffers that are
   * lent, in order, until the consumer calls `release()`; reading pauses while they are all lent.
   * A GetObject stream allocates a new 64 KiB buffer for every socket read: at hundreds of MiB/s
   * those allocations and the garbage collections they set off cost several times the CPU of
   * moving the bytes, next to a clamd that needs a core of its own (ADR 0023 has the numbers).
   * One HTTP/1.1 GET of a presigned URL, without the SDK's retries (the caller retries the read).
   * A connection that ends before the last byte is an error, never a shorter object. Memory:
   * LENT_BUFFERS x LENT_BUFFER_BYTES (4 MiB) per read, whatever the object's size.
   */
  async *readLent(key: string): AsyncGenerator<LentBytes> {
    const url = await this.call('GetObject', () =>
      getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: LENT_URL_EXPIRES_SECONDS }),
    );
    try {
      yield* lentBody(url);
    } catch (error) {
      throw fromStorageError(error, 'GetObject');
    }
  }

  async createMultipartUpload(key: string, opts: { contentType: string; checksumSha256: boolean }): Promise<string> {
    const out = await this.call('CreateMultipartUpload', () =>
      this.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: opts.contentType,
          ChecksumAlgorithm: opts.checksumSha256 ? 'SHA256' : undefined,
          ...this.sse,
        }),
      ),
    );
    if (!out.UploadId) throw fromStorageError(new Error('no UploadId in answer'), 'CreateMultipartUpload');
    return out.UploadId;
  }

  /** Whether storage still knows the multipart upload: one ListParts of one part. */
  async hasMultipartUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.call('ListParts', () => this.s3.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MaxParts: 1 })));
      return true;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'not_found') return false;
      throw error;
    }
  }

  /** Every part storage holds, following ListParts pagination past 1,000 parts. */
  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('ListParts', () =>
        this.s3.send(new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker, MaxParts: 1000 })),
      );
      for (const p of out.Parts ?? []) {
        if (p.PartNumber === undefined) continue;
        parts.push({ partNumber: p.PartNumber, size: p.Size ?? 0, etag: unquote(p.ETag) ?? '', checksumSha256: p.ChecksumSHA256 ?? null });
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  /**
   * Completes with `If-None-Match: *`: a completion never replaces an object the key already holds
   * (issue #11; the single PUT URLs carry the same condition). Storage then answers 412, which
   * leaves here as a `storage_error` saying so: a refusal, not an outage.
   */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: Array<Pick<StoredPart, 'partNumber' | 'etag' | 'checksumSha256'>>,
  ): Promise<{ etag: string | null }> {
    const out = await this.call('CompleteMultipartUpload', () =>
      this.s3
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            IfNoneMatch: '*',
            MultipartUpload: {
              Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"`, ChecksumSHA256: p.checksumSha256 ?? undefined })),
            },
          }),
        )
        .catch((error: unknown) => {
          throw isPreconditionFailed(error)
            ? new DomainError(
                'storage_error',
                'CompleteMultipartUpload: the key already holds an object (If-None-Match)',
                { operation: 'CompleteMultipartUpload', storageError: 'PreconditionFailed', storageStatus: 412 },
                { cause: error },
              )
            : error;
        }),
    );
    return { etag: unquote(out.ETag) };
  }

  /** Idempotent: an upload already gone counts as aborted. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.call('AbortMultipartUpload', () => this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })));
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'not_found') return;
      throw error;
    }
  }

  /**
   * Multipart uploads storage holds under a prefix, a page (up to 1,000) at a time, so a sweep of
   * a bucket with millions of them holds one page in memory, not all.
   */
  async *multipartUploadPages(prefix: string): AsyncGenerator<PendingMultipartUpload[]> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const out = await this.call('ListMultipartUploads', () =>
        this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
      );
      const page: PendingMultipartUpload[] = [];
      for (const u of out.Uploads ?? []) {
        if (u.Key && u.UploadId) page.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? null });
      }
      if (page.length) yield page;
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      uploadIdMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  /** Every multipart upload under a prefix (for tests and tools; sweeps use the pages). */
  async listMultipartUploads(prefix: string): Promise<PendingMultipartUpload[]> {
    const uploads: PendingMultipartUpload[] = [];
    for await (const page of this.multipartUploadPages(prefix)) uploads.push(...page);
    return uploads;
  }
}
