import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { createHash } from 'node:crypto';
import { createS3Client, PostPolicySigner, type PresignedPost } from '@app/storage';
import { createRgwStorage, RgwTestStorage, testConfig } from '@app/testing';
import { bytes, newKey, sleep } from './rgw-requests';

/**
 * Sends a POST policy as a browser form does (multipart/form-data through Node's FormData and
 * fetch): every field as given, `overrides` replacing or adding fields (`null` drops one), and the
 * file as the last part, as S3 requires.
 */
async function postForm(post: Pick<PresignedPost, 'url' | 'fields'>, body: Buffer, overrides: Record<string, string | null> = {}): Promise<Response> {
  const fields: Record<string, string | null> = { ...post.fields, ...overrides };
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== null) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(body)], { type: fields['Content-Type'] ?? 'application/octet-stream' }), 'report.pdf');
  return fetch(post.url, { method: 'POST', body: form });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/** RGW's error code and message (`<Message>` names the failed policy condition), from its XML error document. */
async function refusal(res: Response): Promise<{ status: number; code: string | null; message: string | null }> {
  const xml = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? null, message: /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? null };
}

async function stored(rgw: RgwTestStorage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await rgw.storage.openReadStream(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Issue #14: the S3 POST policies upload-api issues for browser form uploads and Uppy's single-file
 * path, against an S3 that checks them (Ceph RGW; moto checks no POST policy at all). Each case
 * names the status RGW answered.
 */
describe('S3 POST policies on an S3 that enforces them (Ceph RGW)', () => {
  let rgw: RgwTestStorage;
  let signer: PostPolicySigner;
  const body = bytes(64 * 1024);
  const sign = (key: string, contentType = 'application/pdf', contentLength = body.length, expiresInSeconds?: number) =>
    signer.postObject(key, { contentType, contentLength }, { expiresInSeconds });

  beforeAll(async () => {
    rgw = await createRgwStorage(testConfig());
    signer = new PostPolicySigner(rgw.s3, { bucket: rgw.env.S3_BUCKET, expiresInSeconds: rgw.env.PRESIGN_EXPIRES_SECONDS });
  });
  afterAll(async () => {
    await rgw?.dispose();
  });

  describe('accepted', () => {
    it('a browser-style form POST with every field and exactly the declared bytes: 201 with Location, Key and ETag in XML, the object holds those bytes and that type', async () => {
      const key = newKey();
      const res = await postForm(await sign(key), body);
      expect(res.status).toBe(201);
      const xml = await res.text();
      expect(/<Key>([^<]+)<\/Key>/.exec(xml)?.[1]).toBe(key);
      // The key in Location is URL-encoded whole, `/` as %2F (as AWS writes it too).
      expect(/<Location>([^<]+)<\/Location>/.exec(xml)?.[1]).toBe(`${rgw.env.S3_ENDPOINT}/${rgw.env.S3_BUCKET}/${encodeURIComponent(key)}`);
      // RGW 16 writes the ETag unquoted in the XML (AWS quotes it) and sends no ETag header at all
      // on a POST: the 201 body is the only place a browser finds it there.
      expect(/<ETag>"?([^<"]+)"?<\/ETag>/.exec(xml)?.[1]).toBe(createHash('md5').update(body).digest('hex'));
      expect(res.headers.get('etag')).toBeNull();
      expect(await rgw.storage.head(key)).toMatchObject({ size: body.length, contentType: 'application/pdf' });
      expect(sha256(await stored(rgw, key)).equals(sha256(body))).toBe(true);
    });

    it('with the declared SHA-256 as x-amz-checksum-* fields: 201 (RGW takes the fields; it checks no checksum value)', async () => {
      const key = newKey();
      const post = await signer.postObject(key, {
        contentType: 'application/pdf',
        contentLength: body.length,
        checksumSha256: sha256(body).toString('base64'),
      });
      const res = await postForm(post, body);
      expect(res.status).toBe(201);
      expect(await rgw.storage.head(key)).toMatchObject({ size: body.length });
    });
  });

  // RGW answers AccessDenied for every policy and signature failure (AWS: SignatureDoesNotMatch
  // for a bad signature); its <Message> names the condition that failed, asserted where it has one.
  describe('refused', () => {
    it('one byte more than declared: 400 EntityTooLarge, nothing stored', async () => {
      const key = newKey();
      const res = await postForm(await sign(key), Buffer.concat([body, Buffer.from([0])]));
      expect(await refusal(res)).toMatchObject({ status: 400, code: 'EntityTooLarge' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('an upload of unknown size (Uppy through /companion): up to the bound is taken, one byte more is 400 EntityTooLarge', async () => {
      const bounded = (key: string) => signer.postObject(key, { contentType: 'application/pdf', contentLength: { atMost: body.length } });
      const within = newKey();
      expect((await postForm(await bounded(within), body.subarray(0, 1000))).status).toBe(201);
      expect(await rgw.storage.head(within)).toMatchObject({ size: 1000 });
      const atBound = newKey();
      expect((await postForm(await bounded(atBound), body)).status).toBe(201);
      const beyond = newKey();
      const res = await postForm(await bounded(beyond), Buffer.concat([body, Buffer.from([0])]));
      expect(await refusal(res)).toMatchObject({ status: 400, code: 'EntityTooLarge' });
      expect(await rgw.storage.head(beyond)).toBeNull();
    });

    it('one byte less than declared: 400 EntityTooSmall, nothing stored', async () => {
      const key = newKey();
      const res = await postForm(await sign(key), body.subarray(1));
      expect(await refusal(res)).toMatchObject({ status: 400, code: 'EntityTooSmall' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('the policy used for another key: 403, "not met condition: key", nothing stored under either key', async () => {
      const key = newKey();
      const other = newKey();
      const res = await postForm(await sign(key), body, { key: other });
      expect(await refusal(res)).toEqual({ status: 403, code: 'AccessDenied', message: 'Policy check failed, variable not met condition: key' });
      expect(await rgw.storage.head(other)).toBeNull();
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('another content type than declared: 403, "not met condition: Content-Type"', async () => {
      const key = newKey();
      const res = await postForm(await sign(key, 'application/pdf'), body, { 'Content-Type': 'text/html' });
      expect(await refusal(res)).toEqual({ status: 403, code: 'AccessDenied', message: 'Policy check failed, variable not met condition: Content-Type' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('an expired policy (signed for 1 s, used 2.5 s later): 403, "Policy expired"', async () => {
      const key = newKey();
      const post = await sign(key, 'application/pdf', body.length, 1);
      await sleep(2_500);
      const res = await postForm(post, body);
      expect(await refusal(res)).toEqual({ status: 403, code: 'AccessDenied', message: 'Policy expired' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a signature with one character changed: 403', async () => {
      const key = newKey();
      const post = await sign(key);
      const signature = post.fields['X-Amz-Signature'];
      const res = await postForm(post, body, { 'X-Amz-Signature': `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}` });
      expect(await refusal(res)).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a policy widened by the client (content-length-range raised) under the original signature: 403', async () => {
      const key = newKey();
      const post = await sign(key);
      const policy = Buffer.from(post.fields.Policy, 'base64').toString('utf8');
      const widened = policy.replace(`"content-length-range",${body.length},${body.length}`, `"content-length-range",0,${10 * body.length}`);
      expect(widened).not.toBe(policy);
      const res = await postForm(post, Buffer.concat([body, body]), { Policy: Buffer.from(widened).toString('base64') });
      expect(await refusal(res)).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a policy signed with another secret for the same access key: 403', async () => {
      const key = newKey();
      const forgedClient = createS3Client({ ...rgw.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
      try {
        const forged = new PostPolicySigner(forgedClient, { bucket: rgw.env.S3_BUCKET, expiresInSeconds: 60 });
        const res = await postForm(await forged.postObject(key, { contentType: 'application/pdf', contentLength: body.length }), body);
        expect(await refusal(res)).toMatchObject({ status: 403, code: 'AccessDenied' });
      } finally {
        forgedClient.destroy();
      }
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a field the policy does not name (acl=public-read added): 403, "Policy missing condition: acl"', async () => {
      const key = newKey();
      const res = await postForm(await sign(key), body, { acl: 'public-read' });
      expect(await refusal(res)).toEqual({ status: 403, code: 'AccessDenied', message: 'Policy missing condition: acl' });
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a field the policy names left out (Content-Type dropped): 403', async () => {
      const key = newKey();
      const res = await postForm(await sign(key), body, { 'Content-Type': null });
      expect(await refusal(res)).toMatchObject({ status: 403, code: 'AccessDenied' });
      expect(await rgw.storage.head(key)).toBeNull();
    });
  });

  // POST has no conditional write (docs/security.md, "Single use of POST policies"): these record
  // what RGW does, so the platform's recheck path is known to be the defence.
  describe('single use: a second POST with the same policy', () => {
    it('replaces the stored object: 201, the second bytes are stored; an If-None-Match field is refused as unsigned', async () => {
      const key = newKey();
      const post = await sign(key);
      expect((await postForm(post, body)).status).toBe(201);
      const other = Buffer.from(body.map((b) => b ^ 0xff));
      expect(await refusal(await postForm(post, other, { 'If-None-Match': '*' }))).toEqual({
        status: 403,
        code: 'AccessDenied',
        message: 'Policy missing condition: If-None-Match',
      });
      expect((await postForm(post, other)).status).toBe(201);
      expect(sha256(await stored(rgw, key)).equals(sha256(other))).toBe(true);
    });

    it('replaces it even with If-None-Match: * signed into the policy (RGW ignores it as a condition)', async () => {
      const key = newKey();
      const post = await createPresignedPost(rgw.s3, {
        Bucket: rgw.env.S3_BUCKET,
        Key: key,
        Fields: { 'If-None-Match': '*' },
        Conditions: [['content-length-range', body.length, body.length]],
        Expires: 60,
      });
      expect((await postForm(post, body)).status).toBe(204);
      const other = Buffer.from(body.map((b) => b ^ 0xff));
      expect((await postForm(post, other)).status).toBe(204);
      expect(sha256(await stored(rgw, key)).equals(sha256(other))).toBe(true);
    });
  });
});
