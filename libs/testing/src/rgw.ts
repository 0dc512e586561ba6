import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { StorageEnv } from '@app/config';
import { createS3Client, ensureBucket, FastPresigner, ObjectStorage, subscribePushTopic, type PresignerOptions } from '@app/storage';
import type { TestEnv } from './env';
import { TestCdnEnv, testPosture } from './moto';

/**
 * A bucket of the suite's own on the conformance tier's Ceph RGW (scripts/rgw.sh), which checks
 * what moto lets through: signatures, expiry and signed headers of presigned URLs
 * (docs/storage-compatibility.md). No queue: RGW has no SQS.
 */
export interface RgwTestStorage {
  env: StorageEnv;
  s3: S3Client;
  storage: ObjectStorage;
  /** Empties and deletes the bucket, then closes the client. */
  dispose(): Promise<void>;
}

export async function createRgwStorage(
  config: Pick<TestEnv, 'TEST_RGW_URL' | 'TEST_RGW_ACCESS_KEY_ID' | 'TEST_RGW_SECRET_ACCESS_KEY'>,
  opts: { cdn?: TestCdnEnv } = {},
): Promise<RgwTestStorage> {
  const env: StorageEnv = {
    S3_ENDPOINT: config.TEST_RGW_URL,
    S3_REGION: 'us-east-1',
    S3_BUCKET: `conformance-${randomBytes(4).toString('hex')}`,
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: config.TEST_RGW_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: config.TEST_RGW_SECRET_ACCESS_KEY,
    S3_OBJECT_PREFIX: 'uploads/',
    S3_VARIANT_PREFIX: 'variants/',
    PRESIGN_EXPIRES_SECONDS: 900,
    // RGW 16 has no bucket encryption API (and refuses SSE over plain http), and refuses every
    // upload under BlockPublicAcls (ceph tracker #49135): the posture it can hold
    // (docs/storage-compatibility.md). Plain http: no TLS statement.
    S3_SSE: 'none',
    S3_BLOCK_PUBLIC_ACCESS: ['IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
    STORAGE_CORS_ORIGINS: ['*'],
    S3_ABORT_INCOMPLETE_DAYS: 1,
  };
  const s3 = createS3Client(env);
  // As the services' bootstrap makes it (its posture: public-access block, policy, CORS for
  // browser uploads, the lifecycle rule).
  await ensureBucket(s3, testPosture(env, opts.cdn));
  const storage = new ObjectStorage(s3, env.S3_BUCKET);
  const dispose = async () => {
    try {
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: env.S3_BUCKET }));
      for (const u of uploads.Uploads ?? []) await storage.abortMultipartUpload(u.Key!, u.UploadId!);
      const objects = await s3.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET }));
      for (const o of objects.Contents ?? []) await storage.delete(o.Key!);
      await s3.send(new DeleteBucketCommand({ Bucket: env.S3_BUCKET }));
    } finally {
      s3.destroy();
    }
  };
  return { env, s3, storage, dispose };
}

/** The services' presigner for an RGW bucket; `overrides` makes a deliberately different one (another secret, a short expiry). */
export function rgwPresigner(rgw: RgwTestStorage, overrides: Partial<PresignerOptions> = {}): FastPresigner {
  return new FastPresigner({
    bucket: rgw.env.S3_BUCKET,
    region: rgw.env.S3_REGION,
    endpoint: rgw.env.S3_ENDPOINT,
    forcePathStyle: rgw.env.S3_FORCE_PATH_STYLE,
    credentials: rgw.s3.config.credentials,
    expiresInSeconds: rgw.env.PRESIGN_EXPIRES_SECONDS,
    ...overrides,
  });
}

/** RGW pushes the bucket's events to `pushEndpoint` (chunk-tracker's push route), as `npm run up` sets it up. */
export async function pushRgwEvents(rgw: RgwTestStorage, pushEndpoint: string): Promise<void> {
  await subscribePushTopic(rgw.s3, {
    bucket: rgw.env.S3_BUCKET,
    objectPrefix: rgw.env.S3_OBJECT_PREFIX,
    topicName: `${rgw.env.S3_BUCKET}-events`,
    pushEndpoint,
  });
}
