import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ObjectEncryption, sseHeaders } from './encryption';
import { fromStorageError } from './errors';

/**
 * A presigned S3 POST (browser form upload): the client sends `multipart/form-data` to `url` with
 * every entry of `fields`, in any order, and the file as the last part (S3 ignores fields after it).
 */
export interface PresignedPost {
  method: 'POST';
  url: string;
  /** Form fields the client must send exactly as given: they are the signed policy's conditions. */
  fields: Record<string, string>;
  expiresAt: Date;
}

export interface PostObjectSigning {
  contentType: string;
  /**
   * The declared size, to which the policy's `content-length-range` is pinned exactly, or for an
   * upload whose client sends no size (Uppy through /companion) the most it may carry.
   */
  contentLength: number | { atMost: number };
  /** base64 SHA-256 of the whole body, sent as `x-amz-checksum-sha256` (see below for who checks it). */
  checksumSha256?: string;
}

export interface PostPolicyOptions {
  bucket: string;
  /** The same lifetime as presigned PUT URLs (`PRESIGN_EXPIRES_SECONDS`). */
  expiresInSeconds: number;
  /** SSE-KMS (S3_SSE=aws:kms): its fields are conditions of every policy (encryption.ts). */
  encryption?: ObjectEncryption;
}

/**
 * The answer a browser gets. 201 carries an XML body with Location, Bucket, Key and ETag, readable
 * without CORS-exposed headers; S3's default, 204, has no body, and RGW sends no ETag header on a
 * POST at all, so there the 201 body is the only place the ETag appears.
 */
const SUCCESS_ACTION_STATUS = '201';

/**
 * Signs S3 POST policies (SigV4, `createPresignedPost`) for one object each, for browser form
 * uploads and Uppy's single-file POST path (issue #14). Every condition is an exact match: the
 * bucket, the server's key (no `starts-with`, no `${filename}`), `Content-Type`, a
 * `content-length-range` of [size, size] (or [0, bound] for an upload of unknown size, whose
 * size storage then shows), `success_action_status`, the SHA-256 when declared, and with SSE-KMS
 * `x-amz-server-side-encryption` and its key id (issue #15).
 *
 * Single use is NOT in the policy: S3's conditional writes (`If-None-Match: *`) exist for
 * PutObject, CompleteMultipartUpload and CopyObject only, POST Object has no form field for them,
 * and RGW ignores one signed into a policy, so a policy can write its key again until it expires. What protects a stored file is the
 * recheck path: every ObjectCreated event for a key that is already stored re-verifies it
 * (docs/security.md, "Single use of POST policies").
 *
 * Checksums: AWS S3 takes `x-amz-checksum-algorithm` / `x-amz-checksum-sha256` as POST form fields
 * (its checking them on POST is not verified here); Ceph RGW 16 and moto accept the fields and
 * check nothing (docs/storage-compatibility.md), so media-processor's own SHA-256 of the stored
 * bytes stays the check that counts.
 */
export class PostPolicySigner {
  constructor(
    private readonly s3: S3Client,
    private readonly options: PostPolicyOptions,
  ) {}

  get expiresInSeconds(): number {
    return this.options.expiresInSeconds;
  }

  async postObject(key: string, signing: PostObjectSigning, opts: { expiresInSeconds?: number } = {}): Promise<PresignedPost> {
    // Every field becomes an exact-match condition of the policy (createPresignedPost adds one per
    // field, plus the bucket and the exact key), so the client can change none of them.
    const fields: Record<string, string> = {
      'Content-Type': signing.contentType,
      success_action_status: SUCCESS_ACTION_STATUS,
      ...sseHeaders(this.options.encryption),
    };
    if (signing.checksumSha256) {
      fields['x-amz-checksum-algorithm'] = 'SHA256';
      fields['x-amz-checksum-sha256'] = signing.checksumSha256;
    }
    try {
      const post = await createPresignedPost(this.s3, {
        Bucket: this.options.bucket,
        Key: key,
        Fields: fields,
        Conditions: [['content-length-range', ...lengthRange(signing.contentLength)]],
        Expires: opts.expiresInSeconds ?? this.options.expiresInSeconds,
      });
      return { method: 'POST', url: post.url, fields: post.fields, expiresAt: policyExpiration(post.fields.Policy) };
    } catch (error) {
      throw fromStorageError(error, 'PresignPostObject');
    }
  }
}

function lengthRange(length: PostObjectSigning['contentLength']): [number, number] {
  return typeof length === 'number' ? [length, length] : [0, length.atMost];
}

/** The instant S3 stops accepting the policy: its own `expiration` (whole seconds), not a second clock reading. */
function policyExpiration(policy: string): Date {
  const { expiration } = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as { expiration: string };
  return new Date(expiration);
}
