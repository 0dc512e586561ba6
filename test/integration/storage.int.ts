import { GetBucketLifecycleConfigurationCommand, GetBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createHash, randomUUID } from 'node:crypto';
import { DomainError } from '@app/contracts';
import { bootstrapStorage, createSqsClient, FastPresigner, KeyLayout, ObjectStorage, parseS3Notification } from '@app/storage';
import { createTestStorage, resetMoto, StorageTestEnv, testConfig, testPosture, testPresigner } from '@app/testing';

const MiB = 1024 * 1024;

describe('storage adapter against the S3+SQS emulator', () => {
  let env: StorageTestEnv;
  let s3: S3Client;
  let sqs: SQSClient;
  let storage: ObjectStorage;
  let presigner: FastPresigner;
  const keys = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });
  const newKey = () => keys.objectKey({ tenantId: randomUUID(), fileId: randomUUID() });

  beforeAll(async () => {
    await resetMoto(testConfig().TEST_MOTO_URL);
    env = await createTestStorage(testConfig().TEST_MOTO_URL);
    ({ presigner, s3 } = testPresigner(env));
    sqs = createSqsClient(env);
    storage = new ObjectStorage(s3, env.S3_BUCKET);
  });

  afterAll(() => {
    s3.destroy();
    sqs.destroy();
  });

  async function receiveEvents(waitForKey: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    const seen = [];
    while (Date.now() < deadline) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: env.SQS_QUEUE_URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of out.Messages ?? []) {
        seen.push(...parseS3Notification(m.Body!));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: env.SQS_QUEUE_URL, ReceiptHandle: m.ReceiptHandle! }));
      }
      if (seen.some((e) => e.key === waitForKey)) return seen;
    }
    throw new Error(`no event for ${waitForKey} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
  }

  it('a presigned single PUT stores the object and storage announces it on SQS', async () => {
    const key = newKey();
    const body = Buffer.from('hello, storage');
    const put = await presigner.putObject(key, { contentType: 'text/plain', contentLength: body.length });
    const res = await fetch(put.url, { method: put.method, headers: put.headers, body });
    expect(res.status).toBe(200);
    const head = await storage.head(key);
    expect(head).toMatchObject({ size: body.length, contentType: 'text/plain' });
    const events = await receiveEvents(key);
    expect(events.find((e) => e.key === key)).toMatchObject({ eventName: 'ObjectCreated:Put', bucket: env.S3_BUCKET, size: body.length });
  });

  it('a multipart upload through presigned part URLs completes to the exact bytes', async () => {
    const key = newKey();
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('tail')];
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/octet-stream', checksumSha256: false });
    const urls = await presigner.uploadParts(
      key,
      uploadId,
      parts.map((_, i) => ({ partNumber: i + 1 })),
    );
    for (const [i, url] of urls.entries()) {
      const res = await fetch(url.url, { method: 'PUT', headers: url.headers, body: parts[i] });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBeTruthy();
    }
    const listed = await storage.listParts(key, uploadId);
    expect(listed.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 4],
    ]);
    await storage.completeMultipartUpload(key, uploadId, listed);
    const stored = createHash('sha256')
      .update(Buffer.from(await (await storage.openReadStream(key)).toArray().then((c) => Buffer.concat(c))))
      .digest('hex');
    expect(stored).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
    const events = await receiveEvents(key);
    expect(events.filter((e) => e.key === key).map((e) => e.eventName)).toContain('ObjectCreated:CompleteMultipartUpload');
  });

  it('lists parts past the first 1,000 (ListParts is paginated)', async () => {
    const key = newKey();
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'a/b', checksumSha256: false });
    const urls = await presigner.uploadParts(
      key,
      uploadId,
      Array.from({ length: 1005 }, (_, i) => ({ partNumber: i + 1 })),
    );
    // Parts may be tiny until completion; 1,005 one-byte parts, 25 at a time.
    for (let i = 0; i < urls.length; i += 25) {
      await Promise.all(urls.slice(i, i + 25).map((u) => fetch(u.url, { method: 'PUT', body: 'x' })));
    }
    const listed = await storage.listParts(key, uploadId);
    expect(listed).toHaveLength(1005);
    expect(listed.map((p) => p.partNumber)).toEqual(Array.from({ length: 1005 }, (_, i) => i + 1));
    await storage.abortMultipartUpload(key, uploadId);
  });

  it('aborting a multipart upload removes it from storage, and aborting twice is harmless', async () => {
    const key = newKey();
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'a/b', checksumSha256: false });
    expect((await storage.listMultipartUploads('uploads/')).map((u) => u.uploadId)).toContain(uploadId);
    await storage.abortMultipartUpload(key, uploadId);
    await storage.abortMultipartUpload(key, uploadId);
    expect((await storage.listMultipartUploads('uploads/')).map((u) => u.uploadId)).not.toContain(uploadId);
  });

  // moto ignores response-content-disposition overrides (S3 honours them); that the override is
  // signed into the URL is shown in presigner.spec.ts.
  it('a presigned GET with a Content-Disposition override serves the bytes', async () => {
    const key = newKey();
    await fetch((await presigner.putObject(key, { contentType: 'text/plain', contentLength: 3 })).url, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'content-length': '3' },
      body: 'abc',
    });
    const get = await presigner.getObject(key, { contentDisposition: 'attachment; filename="x.txt"' });
    const res = await fetch(get.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('abc');
  });

  it('reports a missing object as absent and maps SDK errors to coded errors', async () => {
    expect(await storage.head(newKey())).toBeNull();
    await storage.delete(newKey()); // deleting a missing object succeeds, as in S3
    const error = await storage.openReadStream(newKey()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('not_found');
    const missingBucket = new ObjectStorage(s3, 'no-such-bucket-here');
    await expect(missingBucket.checkBucket()).rejects.toMatchObject({ code: 'not_found' });
  });

  it('bootstrap is idempotent and installs the notification, DLQ redrive and lifecycle rule', async () => {
    const options = {
      ...testPosture(env),
      queueName: new URL(env.SQS_QUEUE_URL).pathname.split('/').pop()!,
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 30,
    };
    const again = await bootstrapStorage(s3, sqs, options);
    expect(again.queueUrl).toBe(env.SQS_QUEUE_URL);
    const notification = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: env.S3_BUCKET }));
    expect(notification.QueueConfigurations).toHaveLength(1);
    const rules = notification.QueueConfigurations![0].Filter!.Key!.FilterRules!;
    expect(rules.map((r) => [r.Name!.toLowerCase(), r.Value])).toEqual([['prefix', 'uploads/']]);
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: env.S3_BUCKET }));
    expect(lifecycle.Rules![0].AbortIncompleteMultipartUpload!.DaysAfterInitiation).toBe(1);
  });

  it('objects outside the prefix (variants) raise no events', async () => {
    const variant = keys.variantKey({ tenantId: randomUUID(), fileId: randomUUID() }, 'thumb', '0123456789abcdef');
    await fetch((await presigner.putObject(variant, { contentType: 'image/webp', contentLength: 1 })).url, {
      method: 'PUT',
      headers: { 'content-type': 'image/webp', 'content-length': '1' },
      body: 'x',
    });
    const marker = newKey();
    await fetch((await presigner.putObject(marker, { contentType: 'a/b', contentLength: 1 })).url, {
      method: 'PUT',
      headers: { 'content-type': 'a/b', 'content-length': '1' },
      body: 'x',
    });
    const events = await receiveEvents(marker);
    expect(events.map((e) => e.key)).not.toContain(variant);
  });
});
