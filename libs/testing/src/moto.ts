import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BucketPosture,
  bucketPosture,
  BucketPostureEnv,
  bootstrapStorage,
  createS3Client,
  createSqsClient,
  FastPresigner,
  objectEncryption,
} from '@app/storage';
import type { SqsEnv, StorageEnv } from '@app/config';

/** Wipes every bucket and queue of the test emulator (between suites). */
export async function resetMoto(motoUrl: string): Promise<void> {
  const res = await fetch(new URL('/moto-api/reset', motoUrl), { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

/** What a suite's storage is; SQS_POLLERS is left to each service's default. */
export type StorageTestEnv = StorageEnv & Omit<SqsEnv, 'SQS_POLLERS'>;

/** Where a test bucket's CDN reads from (its policy's grant): no CDN unless a test says so. */
export type TestCdnEnv = Partial<Pick<BucketPostureEnv, 'CDN' | 'CDN_CLOUDFRONT_DISTRIBUTION_ARN' | 'CDN_ORIGIN_SOURCE_CIDRS'>>;

/** A test bucket's posture, as the bootstrap CLI makes it from the same settings. */
export function testPosture(env: StorageEnv, cdn: TestCdnEnv = {}): BucketPosture {
  return bucketPosture({ CDN: 'none', CDN_ORIGIN_SOURCE_CIDRS: [], S3_QUARANTINE_PREFIX: 'quarantine/', ...cdn, ...env });
}

/**
 * A bucket + queue + DLQ + notification of the suite's own, named uniquely so suites never read
 * each other's events, bootstrapped exactly as `npm run up` does it: private (Block Public Access),
 * SSE-S3 by default, no TLS statement (moto is plain http and enforces a bucket policy's denies).
 * `storage` changes settings (S3_SSE=aws:kms, say), `cdn` the policy's CDN grant.
 */
export async function createTestStorage(
  motoUrl: string,
  opts: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number; storage?: Partial<StorageEnv>; cdn?: TestCdnEnv } = {},
): Promise<StorageTestEnv> {
  const suffix = randomBytes(4).toString('hex');
  const env: StorageTestEnv = {
    S3_ENDPOINT: motoUrl,
    S3_REGION: 'us-east-1',
    S3_BUCKET: `test-${suffix}`,
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    S3_OBJECT_PREFIX: 'uploads/',
    S3_VARIANT_PREFIX: 'variants/',
    PRESIGN_EXPIRES_SECONDS: 900,
    S3_SSE: 'AES256',
    S3_BLOCK_PUBLIC_ACCESS: ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
    STORAGE_CORS_ORIGINS: ['*'],
    S3_ABORT_INCOMPLETE_DAYS: 1,
    ...opts.storage,
    SQS_ENDPOINT: motoUrl,
    SQS_QUEUE_URL: '',
    SQS_BATCH_SIZE: 10,
    SQS_WAIT_SECONDS: 1,
    SQS_VISIBILITY_TIMEOUT_SECONDS: opts.visibilityTimeoutSeconds ?? 30,
  };
  const s3 = createS3Client(env);
  const sqs = createSqsClient(env);
  try {
    const { queueUrl } = await bootstrapStorage(s3, sqs, {
      ...testPosture(env, opts.cdn),
      queueName: `events-${suffix}`,
      maxReceiveCount: opts.maxReceiveCount ?? 5,
      visibilityTimeoutSeconds: env.SQS_VISIBILITY_TIMEOUT_SECONDS,
    });
    return { ...env, SQS_QUEUE_URL: queueUrl };
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

/** Env strings for a child process. */
export function envStrings(env: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

/** A presigner (and its S3 client, to destroy) for a test's bucket, signing as the services do. */
export function testPresigner(env: StorageEnv): { presigner: FastPresigner; s3: S3Client } {
  const s3 = createS3Client(env);
  const presigner = new FastPresigner({
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: s3.config.credentials,
    expiresInSeconds: env.PRESIGN_EXPIRES_SECONDS,
    encryption: objectEncryption(env),
  });
  return { presigner, s3 };
}
