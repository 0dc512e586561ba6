import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes, randomUUID } from 'node:crypto';
import type { StorageEvent } from '@app/domain';
import { createS3Client, createSqsClient, ObjectStorage, PostPolicySigner, StorageEventSource, type PresignedPost } from '@app/storage';
import { createTestStorage, sleep, StorageTestEnv, testConfig, until } from '@app/testing';

/** A browser-style form POST (Node's FormData + fetch): the fields, `overrides` replacing some, the file last. */
async function postForm(post: Pick<PresignedPost, 'url' | 'fields'>, body: Buffer, overrides: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...post.fields, ...overrides })) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(body)]), 'photo.jpg');
  return fetch(post.url, { method: 'POST', body: form });
}

/**
 * POST-policy uploads (issue #14) on the CI emulator. moto stores a form POST and announces it on
 * SQS, which is what the tracker needs; it checks nothing of the policy, so what the policy
 * refuses is proven on Ceph RGW (test/conformance/post-policy.conformance.ts), and the last test
 * here records moto's leniency so docs/storage-compatibility.md goes stale loudly if it changes.
 */
describe('S3 POST policies on moto', () => {
  let env: StorageTestEnv;
  let s3: S3Client;
  let sqs: SQSClient;
  let storage: ObjectStorage;
  let signer: PostPolicySigner;
  const body = randomBytes(4096);
  const newKey = () => `uploads/${randomUUID()}/${randomUUID()}`;

  beforeAll(async () => {
    env = await createTestStorage(testConfig().TEST_MOTO_URL);
    s3 = createS3Client(env);
    sqs = createSqsClient(env);
    storage = new ObjectStorage(s3, env.S3_BUCKET);
    signer = new PostPolicySigner(s3, { bucket: env.S3_BUCKET, expiresInSeconds: env.PRESIGN_EXPIRES_SECONDS });
  });
  afterAll(() => {
    s3?.destroy();
    sqs?.destroy();
  });

  it('stores a form POST with the declared type and announces it on SQS as ObjectCreated:Post, which the event source decodes', async () => {
    const key = newKey();
    const res = await postForm(await signer.postObject(key, { contentType: 'image/jpeg', contentLength: body.length }), body);
    // moto answers the signed success_action_status, with an empty body (AWS and RGW send XML).
    expect(res.status).toBe(201);
    expect(await storage.head(key)).toMatchObject({ size: body.length, contentType: 'image/jpeg' });

    const seen: StorageEvent[] = [];
    const source = new StorageEventSource(sqs, {
      queueUrl: env.SQS_QUEUE_URL,
      batchSize: 10,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 30,
      drainTimeoutMs: 10_000,
      pollers: 1,
    });
    source.start(async (messages) => {
      seen.push(...messages.flatMap((m) => m.events));
      return messages;
    });
    try {
      await until('the POST event', () => seen.some((e) => e.key === key));
    } finally {
      await source.stop();
    }
    // chunk-tracker acts on every `ObjectCreated:*` event (storage-events.service.ts), Post included.
    expect(seen.find((e) => e.key === key)).toMatchObject({ eventName: 'ObjectCreated:Post', size: body.length });
  });

  it('enforces none of the policy (fact: RGW and AWS refuse every one of these)', async () => {
    const declared = { contentType: 'image/jpeg', contentLength: body.length };
    const cases: Array<[string, () => Promise<Response>, string]> = [];
    const add = (name: string, key: string, send: (post: PresignedPost) => Promise<Response>, storedAt = key) => {
      cases.push([name, async () => send(await signer.postObject(key, declared)), storedAt]);
    };
    const k = Array.from({ length: 6 }, newKey);
    add('one byte more', k[0], (p) => postForm(p, Buffer.concat([body, Buffer.from([0])])));
    add('one byte less', k[1], (p) => postForm(p, body.subarray(1)));
    const other = newKey();
    add('another key', k[2], (p) => postForm(p, body, { key: other }), other);
    add('another content type', k[3], (p) => postForm(p, body, { 'Content-Type': 'text/html' }));
    add('a changed signature', k[4], (p) => postForm(p, body, { 'X-Amz-Signature': '0'.repeat(64) }));
    const expiredKey = k[5];
    const expired = await new PostPolicySigner(s3, { bucket: env.S3_BUCKET, expiresInSeconds: 1 }).postObject(expiredKey, declared);
    await sleep(2_500);
    cases.push(['an expired policy', () => postForm(expired, body), expiredKey]);

    for (const [name, send, storedAt] of cases) {
      const res = await send();
      expect({ name, status: res.status }).toEqual({ name, status: 201 });
      expect(await storage.head(storedAt)).not.toBeNull();
    }
  });
});
