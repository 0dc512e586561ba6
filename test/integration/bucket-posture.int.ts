import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketLifecycleCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '@app/config';
import { createHttpApp } from '@app/http';
import {
  bootstrapStorage,
  bucketPosture,
  BucketPostureInspector,
  createS3Client,
  createSqsClient,
  ObjectStorage,
  objectEncryption,
  parsePolicy,
  PolicyStatement,
  PostPolicySigner,
} from '@app/storage';
import { createTestDatabase, createTestStorage, envStrings, StorageTestEnv, TestCdnEnv, testConfig, testPosture, testPresigner, until } from '@app/testing';
import { ChunkTrackerModule } from '../../apps/chunk-tracker/src/app.module';
import { BucketPostureCheck } from '../../apps/chunk-tracker/src/bucket-posture-check';
import { trackerEnv } from '../../apps/chunk-tracker/src/config';

const DISTRIBUTION = 'arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE';
// moto keeps the key id it is given without asking KMS (no KMS client here); real S3 needs a real key.
const KMS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CLOUDFRONT: TestCdnEnv = { CDN: 'cloudfront', CDN_CLOUDFRONT_DISTRIBUTION_ARN: DISTRIBUTION };
const ORG_STATEMENT: PolicyStatement = { Sid: 'OrgDenyDeleteBucket', Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::x' };

/**
 * Issue #15's private, encrypted bucket on the CI emulator: the bootstrap's public-access block,
 * policy and default encryption read back; SSE-KMS named by every kind of write; a second
 * bootstrap changing nothing; drift found by chunk-tracker at start and converged by the bootstrap.
 * That a policy grants and denies as written is proven on Ceph RGW (test/conformance/bucket-posture.conformance.ts).
 */
describe('the bucket posture on moto', () => {
  const clients: Array<S3Client | SQSClient> = [];
  afterAll(() => clients.forEach((c) => c.destroy()));

  async function bucket(opts: { storage?: Partial<StorageTestEnv>; cdn?: TestCdnEnv } = {}) {
    const env = await createTestStorage(testConfig().TEST_MOTO_URL, opts);
    const s3 = createS3Client(env);
    const sqs = createSqsClient(env);
    clients.push(s3, sqs);
    const posture = testPosture(env, opts.cdn);
    const bootstrapAgain = () =>
      bootstrapStorage(s3, sqs, {
        ...posture,
        queueName: new URL(env.SQS_QUEUE_URL).pathname.split('/').pop()!,
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: env.SQS_VISIBILITY_TIMEOUT_SECONDS,
      });
    return { env, s3, posture, bootstrapAgain, inspect: () => new BucketPostureInspector(s3, posture).inspect() };
  }

  /** Every setting of the posture as storage answers it, raw. */
  async function readBack(s3: S3Client, Bucket: string) {
    return {
      publicAccessBlock: (await s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration,
      policy: parsePolicy((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy!),
      encryption: (await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules,
      cors: (await s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules,
      lifecycle: (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules,
    };
  }

  const sseOf = async (s3: S3Client, Bucket: string, Key: string) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    return { ServerSideEncryption: head.ServerSideEncryption, SSEKMSKeyId: head.SSEKMSKeyId };
  };

  it('is private and SSE-S3 encrypted, and only the CDN’s identity may read the upload and variant prefixes (read back)', async () => {
    const { env, s3, inspect } = await bucket({ cdn: CLOUDFRONT });
    const back = await readBack(s3, env.S3_BUCKET);
    expect(back.publicAccessBlock).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    // moto is plain http: no TLS statement (it would deny every request; bucket-posture.spec.ts has it).
    expect(back.policy.Statement).toEqual([
      {
        Sid: 'CdnReadsDeliveryPrefixes',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: [`arn:aws:s3:::${env.S3_BUCKET}/uploads/*`, `arn:aws:s3:::${env.S3_BUCKET}/variants/*`],
        Condition: { StringEquals: { 'AWS:SourceArn': DISTRIBUTION } },
      },
    ]);
    expect(JSON.stringify(back.policy)).not.toContain('quarantine');
    expect(back.encryption).toEqual([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }]);

    // SSE-S3 signs no header: an upload through a presigned URL is encrypted by the bucket's default.
    const { presigner } = testPresigner(env);
    const key = `uploads/${randomUUID()}/${randomUUID()}`;
    const put = await presigner.putObject(key, { contentType: 'text/plain', contentLength: 5 });
    expect(Object.keys(put.headers).filter((h) => h.startsWith('x-amz-server-side'))).toEqual([]);
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'hello' })).status).toBe(200);
    expect(await sseOf(s3, env.S3_BUCKET, key)).toEqual({ ServerSideEncryption: 'AES256', SSEKMSKeyId: undefined });

    expect(await inspect()).toEqual({
      bucket: env.S3_BUCKET,
      checked: ['cors', 'encryption', 'lifecycle', 'policy', 'public-access-block'],
      drift: [],
      unreadable: [],
    });
  });

  it('with SSE-KMS, every write names the key, so objects are stored under it even when the bucket’s default drifted', async () => {
    const { env, s3, inspect } = await bucket({ storage: { S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KMS_KEY } });
    const Bucket = env.S3_BUCKET;
    expect((await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration?.Rules).toEqual([
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS_KEY }, BucketKeyEnabled: true },
    ]);
    // By hand: the default is SSE-S3 now. What lands under the key below, the request's own headers put there.
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      }),
    );
    const underKey = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY };
    const newKey = () => `uploads/${randomUUID()}/${randomUUID()}`;

    const { presigner } = testPresigner(env);
    const single = newKey();
    const put = await presigner.putObject(single, { contentType: 'image/jpeg', contentLength: 4 });
    expect(put.headers).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY });
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'jpeg' })).status).toBe(200);
    expect(await sseOf(s3, Bucket, single)).toEqual(underKey);

    const form = newKey();
    const post = await new PostPolicySigner(s3, { bucket: Bucket, expiresInSeconds: 900, encryption: objectEncryption(env) }).postObject(form, {
      contentType: 'image/jpeg',
      contentLength: 4,
    });
    const body = new FormData();
    for (const [name, value] of Object.entries(post.fields)) body.append(name, value);
    body.append('file', new Blob([new Uint8Array(Buffer.from('jpeg'))]));
    expect((await fetch(post.url, { method: 'POST', body })).status).toBe(201);
    // moto's POST handler ignores the SSE fields (it reads key, file, acl, success_action_* and
    // metadata only): the object takes the bucket's default. AWS takes them as POST Object form
    // fields. Recorded here so docs/storage-compatibility.md goes stale loudly if moto changes.
    expect(await sseOf(s3, Bucket, form)).toEqual({ ServerSideEncryption: 'AES256', SSEKMSKeyId: undefined });

    const storage = new ObjectStorage(s3, Bucket, { encryption: objectEncryption(env) });
    const multipart = newKey();
    const uploadId = await storage.createMultipartUpload(multipart, { contentType: 'video/mp4', checksumSha256: false });
    const [part] = await presigner.uploadParts(multipart, uploadId, [{ partNumber: 1 }]);
    expect(part.headers).toEqual({});
    const sent = await fetch(part.url, { method: 'PUT', body: randomBytes(1024) });
    expect(sent.status).toBe(200);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: multipart,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: sent.headers.get('etag')! }] },
      }),
    );
    expect(await sseOf(s3, Bucket, multipart)).toEqual(underKey);

    const variant = `variants/${randomUUID()}/${randomUUID()}/thumb.0123456789abcdef`;
    await storage.put(variant, new Uint8Array([1, 2, 3]), 'image/webp');
    expect(await sseOf(s3, Bucket, variant)).toEqual(underKey);
    // A copy made with SSE-S3 by hand, then quarantined by the platform: the copy is under the key.
    const plain = newKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: plain, Body: 'x', ServerSideEncryption: 'AES256' }));
    const quarantined = `quarantine/${randomUUID()}/${randomUUID()}`;
    await storage.copy(plain, quarantined);
    expect(await sseOf(s3, Bucket, quarantined)).toEqual(underKey);

    // And chunk-tracker's check names what was changed by hand.
    expect((await inspect()).drift).toEqual([
      {
        setting: 'encryption',
        problem: 'default encryption is AES256; the bootstrap sets aws:kms',
        expected: { algorithm: 'aws:kms', kmsKeyId: KMS_KEY },
        actual: { algorithm: 'AES256', kmsKeyId: undefined, bucketKeyEnabled: false },
      },
    ]);
  });

  it('a second bootstrap changes nothing, and keeps a statement of another’s in the policy', async () => {
    const { env, s3, bootstrapAgain, inspect } = await bucket({ cdn: CLOUDFRONT });
    const Bucket = env.S3_BUCKET;
    const before = await readBack(s3, Bucket);
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ ...before.policy, Statement: [ORG_STATEMENT, ...before.policy.Statement] }) }));
    await bootstrapAgain();
    const after = await readBack(s3, Bucket);
    expect(after).toEqual({ ...before, policy: { ...before.policy, Statement: [ORG_STATEMENT, ...before.policy.Statement] } });
    await bootstrapAgain();
    expect(await readBack(s3, Bucket)).toEqual(after);
    expect((await inspect()).drift).toEqual([]);
  });

  it('names every setting changed by hand, and the bootstrap sets them back', async () => {
    const { env, s3, bootstrapAgain, inspect } = await bucket({ cdn: CLOUDFRONT });
    const Bucket = env.S3_BUCKET;
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
      }),
    );
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
    // Someone replaced the policy: the CDN's grant is gone, another's statement is there.
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [ORG_STATEMENT] }) }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket,
        CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://evil.example'], AllowedHeaders: ['*'] }] },
      }),
    );
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));

    const report = await inspect();
    expect(report.drift.map((d) => [d.setting, d.problem]).sort()).toEqual([
      ['cors', 'no CORS rule is the one the bootstrap sets (methods, origins, headers, exposed headers, max age)'],
      ['encryption', 'no default encryption; the bootstrap sets AES256'],
      ['lifecycle', 'rule abort-incomplete-multipart-uploads is missing'],
      ['policy', 'statement CdnReadsDeliveryPrefixes is missing'],
      ['public-access-block', 'BlockPublicPolicy is false, RestrictPublicBuckets is false; the bootstrap sets true, true'],
    ]);
    expect(report.unreadable).toEqual([]);

    await bootstrapAgain();
    expect((await inspect()).drift).toEqual([]);
    expect((await readBack(s3, Bucket)).policy.Statement.map((s) => s.Sid)).toEqual(['OrgDenyDeleteBucket', 'CdnReadsDeliveryPrefixes']);
  });

  it('the nginx CDN’s grant is what lets the local stand-in read variants: moto refuses anonymous reads without it', async () => {
    const key = `variants/${randomUUID()}/${randomUUID()}/thumb.0123456789abcdef`;
    const anonymousRead = async (cdn?: TestCdnEnv) => {
      const { env, s3 } = await bucket({ cdn });
      await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: key, Body: 'webp' }));
      return (await fetch(`${env.S3_ENDPOINT}/${env.S3_BUCKET}/${key}`)).status;
    };
    expect(await anonymousRead({ CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: ['127.0.0.1/32'] })).toBe(200);
    expect(await anonymousRead()).toBe(403);
  });

  it('the TLS statement denies a plain-http request (moto enforces a policy’s denies)', async () => {
    const cfg = testConfig();
    const env = await createTestStorage(cfg.TEST_MOTO_URL);
    const s3 = createS3Client(env);
    clients.push(s3);
    const Bucket = `tls-${randomBytes(4).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'uploads/a', Body: 'x' }));
    // The posture of the same bucket behind an https endpoint (AWS): the TLS statement is in it.
    const overTls = testPosture({ ...env, S3_BUCKET: Bucket, S3_ENDPOINT: undefined });
    expect(overTls.policyStatements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport']);
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: overTls.policyStatements }) }));
    // This client speaks plain http to moto: everything is refused now, reads and writes alike.
    await expect(s3.send(new PutObjectCommand({ Bucket, Key: 'uploads/b', Body: 'x' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'uploads/a' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it('chunk-tracker compares the bucket at start and again every interval: a drift is a warning and storage_bucket_drift, never a failed start; a fix clears it', async () => {
    const cfg = testConfig();
    const { env, s3 } = await bucket();
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: env.S3_BUCKET }));
    const db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
    const config = loadConfig(trackerEnv, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      REDIS_URL: cfg.TEST_REDIS_URL,
      QUEUE_PREFIX: `posture-${db.name}`,
      RECONCILE_INTERVAL_MS: '3600000',
      BUCKET_POSTURE_CHECK_SECONDS: '1',
      ...envStrings(env),
      // The push route: no SQS consumer competing for the bucket's events in this test.
      SQS_QUEUE_URL: '',
      STORAGE_EVENTS: 'http-push',
      STORAGE_EVENTS_PUSH_SECRETS: 'integration-push-secret-0123456789abcdef',
    });
    expect(bucketPosture(config).encryption).toEqual({ algorithm: 'AES256' });
    const app = await createHttpApp(ChunkTrackerModule.register(config), {});
    try {
      await app.init();
      const report = await app.get(BucketPostureCheck).done;
      expect(report?.drift.map((d) => d.setting)).toEqual(['encryption']);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^storage_bucket_drift\{setting="encryption",service="chunk-tracker"\} 1$/m);
      expect(metrics).toMatch(/^storage_bucket_drift\{setting="public-access-block",service="chunk-tracker"\} 0$/m);
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);

      // Encryption restored while the tracker runs: a later check sees it, without a restart.
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: env.S3_BUCKET,
          ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        }),
      );
      await until('the next check finds the encryption restored', async () =>
        /^storage_bucket_drift\{setting="encryption",service="chunk-tracker"\} 0$/m.test((await app.inject({ method: 'GET', url: '/metrics' })).body),
      );
      expect((await app.get(BucketPostureCheck).done)?.drift).toEqual([]);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
