import { S3Client } from '@aws-sdk/client-s3';
import { createHmac } from 'node:crypto';
import { DomainError } from '@app/contracts';
import type { ObjectEncryption } from './encryption';
import { PostPolicySigner, PresignedPost } from './post-policy';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2026-11-21T08:00:00Z');
const key = 'uploads/0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b/9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';
const checksum = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';

type Condition = Record<string, string> | [string, string | number, string | number];
interface Policy {
  expiration: string;
  conditions: Condition[];
}

function signer(s3: { endpoint?: string; forcePathStyle?: boolean; region?: string } = {}, expiresInSeconds = 900, encryption?: ObjectEncryption) {
  const client = new S3Client({
    region: s3.region ?? 'us-east-1',
    endpoint: 'endpoint' in s3 ? s3.endpoint : 'http://127.0.0.1:5055',
    forcePathStyle: s3.forcePathStyle ?? true,
    credentials,
  });
  return new PostPolicySigner(client, { bucket: 'uploads', expiresInSeconds, encryption });
}

const decode = (post: PresignedPost): Policy => JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8')) as Policy;

/** Every exact-match condition of the policy, as one object (S3 treats `{f: v}` and `["eq", "$f", v]` alike). */
function exactConditions(policy: Policy): Record<string, string> {
  const exact: Record<string, string> = {};
  for (const c of policy.conditions) {
    if (Array.isArray(c)) {
      if (c[0] === 'eq') exact[String(c[1]).replace(/^\$/, '')] = String(c[2]);
    } else Object.assign(exact, c);
  }
  return exact;
}

/**
 * The SigV4 POST signature recomputed from the spec (AWS "Calculating a Signature" for POST: the
 * day's signing key, HMAC of the base64 policy), independently of the SDK that signed it.
 */
function expectedSignature(post: PresignedPost, secret: string, region: string): string {
  const date = post.fields['X-Amz-Date'].slice(0, 8);
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', signingKey).update(post.fields.Policy).digest('hex');
}

describe('PostPolicySigner', () => {
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(now.getTime());
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('pins the policy to one bucket, the exact key, the declared type and exactly the declared size', async () => {
    const post = await signer().postObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    const policy = decode(post);
    expect(policy.conditions).toContainEqual(['content-length-range', 1234, 1234]);
    // No other size range and no prefix match anywhere: the key, the type and the size cannot move.
    expect(policy.conditions.filter((c) => Array.isArray(c) && c[0] === 'content-length-range')).toHaveLength(1);
    expect(policy.conditions.filter((c) => Array.isArray(c) && c[0] === 'starts-with')).toEqual([]);
    expect(exactConditions(policy)).toEqual({
      bucket: 'uploads',
      key,
      'Content-Type': 'image/jpeg',
      success_action_status: '201',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20261121T080000Z',
    });
  });

  it('gives the client every field the policy names, with the same values, plus the policy and its signature', async () => {
    const post = await signer().postObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    const { Policy: _policy, 'X-Amz-Signature': _signature, ...conditioned } = post.fields;
    expect(conditioned).toEqual(exactConditions(decode(post)));
    expect(post.method).toBe('POST');
  });

  it('signs the policy with SigV4 for S3 in the client region (recomputed independently)', async () => {
    const post = await signer({ region: 'eu-west-1' }).postObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    expect(post.fields['X-Amz-Signature']).toBe(expectedSignature(post, credentials.secretAccessKey, 'eu-west-1'));
    expect(post.fields['X-Amz-Signature']).not.toBe(expectedSignature(post, 'another-secret', 'eu-west-1'));
    // A widened policy (the client raising the size limit) no longer matches the signature.
    const widened = JSON.stringify(decode(post)).replace('"content-length-range",1234,1234', '"content-length-range",1234,999999999');
    const tampered = { ...post, fields: { ...post.fields, Policy: Buffer.from(widened).toString('base64') } };
    expect(tampered.fields.Policy).not.toBe(post.fields.Policy);
    expect(post.fields['X-Amz-Signature']).not.toBe(expectedSignature(tampered, credentials.secretAccessKey, 'eu-west-1'));
  });

  it('expires after the configured lifetime (the PUT URLs’ PRESIGN_EXPIRES_SECONDS), and says when', async () => {
    const post = await signer({}, 900).postObject(key, { contentType: 'image/jpeg', contentLength: 1 });
    expect(decode(post).expiration).toBe('2026-11-21T08:15:00Z');
    expect(post.expiresAt).toEqual(new Date('2026-11-21T08:15:00Z'));
  });

  it('takes a shorter lifetime per policy', async () => {
    const post = await signer({}, 900).postObject(key, { contentType: 'image/jpeg', contentLength: 1 }, { expiresInSeconds: 60 });
    expect(decode(post).expiration).toBe('2026-11-21T08:01:00Z');
    expect(post.expiresAt).toEqual(new Date('2026-11-21T08:01:00Z'));
  });

  it('reports the policy’s own expiry, which S3 states in whole seconds', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(now.getTime() + 999);
    const post = await signer({}, 60).postObject(key, { contentType: 'image/jpeg', contentLength: 1 });
    expect(decode(post).expiration).toBe('2026-11-21T08:01:00Z');
    expect(post.expiresAt).toEqual(new Date('2026-11-21T08:01:00Z'));
  });

  it('signs a declared SHA-256 as exact-match checksum fields', async () => {
    const post = await signer().postObject(key, { contentType: 'text/plain', contentLength: 1, checksumSha256: checksum });
    expect(post.fields['x-amz-checksum-algorithm']).toBe('SHA256');
    expect(post.fields['x-amz-checksum-sha256']).toBe(checksum);
    expect(exactConditions(decode(post))).toMatchObject({ 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': checksum });
  });

  it('with SSE-KMS, pins the encryption and its key as exact-match fields the client must send (#15)', async () => {
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const post = await signer({}, 900, { algorithm: 'aws:kms', kmsKeyId }).postObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    expect(exactConditions(decode(post))).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': kmsKeyId });
    expect(post.fields).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': kmsKeyId });
    // Without SSE-KMS (SSE-S3 is the bucket's default) the policy names no encryption at all.
    const plain = await signer().postObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    expect(Object.keys(exactConditions(decode(plain))).filter((k) => k.startsWith('x-amz-server-side'))).toEqual([]);
  });

  it('names no checksum when none was declared (an empty-body checksum would fail every upload)', async () => {
    const post = await signer().postObject(key, { contentType: 'text/plain', contentLength: 1 });
    const names = [...Object.keys(post.fields), ...Object.keys(exactConditions(decode(post)))].map((n) => n.toLowerCase());
    expect(names.filter((n) => n.startsWith('x-amz-checksum') || n === 'content-md5')).toEqual([]);
  });

  it('posts to the bucket path on a path-style endpoint (moto, RGW)', async () => {
    const post = await signer({ endpoint: 'http://127.0.0.1:5130', forcePathStyle: true }).postObject(key, { contentType: 'a/b', contentLength: 1 });
    expect(post.url).toBe('http://127.0.0.1:5130/uploads');
    expect(post.fields.key).toBe(key);
  });

  it('posts to the bucket host on AWS itself (virtual-hosted), the key only in the form', async () => {
    const post = await signer({ endpoint: undefined, forcePathStyle: false, region: 'eu-west-1' }).postObject(key, { contentType: 'a/b', contentLength: 1 });
    const url = new URL(post.url);
    expect(url.host).toBe('uploads.s3.eu-west-1.amazonaws.com');
    expect(url.protocol).toBe('https:');
    expect(url.pathname).toBe('/');
    expect(post.fields.key).toBe(key);
  });

  it('carries a session token for temporary credentials as a signed field', async () => {
    const client = new S3Client({ region: 'us-east-1', credentials: { ...credentials, sessionToken: 'token-1' } });
    const post = await new PostPolicySigner(client, { bucket: 'uploads', expiresInSeconds: 900 }).postObject(key, { contentType: 'a/b', contentLength: 1 });
    expect(post.fields['X-Amz-Security-Token']).toBe('token-1');
    expect(exactConditions(decode(post))['X-Amz-Security-Token']).toBe('token-1');
  });

  it('turns a credentials failure into a coded storage error', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      credentials: () => Promise.reject(Object.assign(new Error('no credentials'), { name: 'CredentialsProviderError' })),
    });
    const signing = new PostPolicySigner(client, { bucket: 'uploads', expiresInSeconds: 900 }).postObject(key, { contentType: 'a/b', contentLength: 1 });
    await expect(signing).rejects.toBeInstanceOf(DomainError);
    await expect(signing).rejects.toMatchObject({ code: 'storage_error' });
  });
});
