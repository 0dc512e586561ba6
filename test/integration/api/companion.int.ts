import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ErrorCodes } from '@app/contracts';
import { FilePartRepository, FileRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { redactUrl } from '@app/observability';
import { createS3Client, ObjectStorage } from '@app/storage';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CompletionService } from '../../../apps/chunk-tracker/src/completion.service';
import { PUSH_SECRET, PushTracker, startPushTracker } from '../push-harness';
import { ApiHarness, createTenant, startApi } from './api-harness';

/**
 * Companion's S3 routes at /companion (issue #14), spoken as Uppy 5 (`endpoint`, Authorization
 * header) and Uppy 6 (`companionEndpoint` with the user token in the path; or the session cookie)
 * speak them. Neither sends the file's size: an upload started here holds no quota until storage
 * shows its bytes. Real Postgres, Redis and moto; chunk-tracker's event handling and completion on
 * the same database.
 */
const MiB = 1024 ** 2;
type Res = { status: number; headers: Record<string, unknown>; body: any };

describe('upload-api: Companion-compatible S3 routes (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let tracker: PushTracker;
  let tenant: { id: string; apiKey: string };
  let storage: ObjectStorage;
  let completion: CompletionService;
  let files: FileRepository;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    api = await startApi();
    tracker = await startPushTracker({ databaseUrl: api.db.url, storage: api.storage, queuePrefix: `api-${api.db.name}` });
    tenant = await createTenant(api, { quotaBytes: 64 * MiB, maxFileBytes: 40 * MiB });
    storage = new ObjectStorage(createS3Client(api.storage), api.storage.S3_BUCKET);
    files = api.app.get(FileRepository, { strict: false });
    completion = new CompletionService(api.app.get(FilePartRepository, { strict: false }), storage, api.app.get(FileLifecycle, { strict: false }));
    alice = await userToken('alice');
    bob = await userToken('bob');
  });
  afterAll(async () => {
    await tracker?.close();
    await api?.close();
  });

  async function userToken(ownerId: string): Promise<string> {
    const res = await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  }
  /** Uppy 5: `endpoint: <api>/companion`, `headers: { authorization: 'Bearer <token>' }`. */
  const uppy5 = (method: string, path: string, body?: unknown, token = alice) => api.request(method, `/companion${path}`, { token, body });
  /** Uppy 6: `companionEndpoint: <api>/companion/t/<token>`, no headers at all. */
  const uppy6 = (method: string, path: string, body?: unknown, token = alice) => api.request(method, `/companion/t/${token}${path}`, { body });
  const quota = async () =>
    (
      await api.sql<{ reserved: string; used: string }>('SELECT reserved_bytes AS reserved, used_bytes AS used FROM quota_totals WHERE tenant_id = $1', [
        tenant.id,
      ])
    )[0];
  const expectProblem = (res: Res, status: number, code: string) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code });
    expect(Object.keys(ErrorCodes)).toContain(code);
    expect(res.status).toBe(status);
  };
  const put = async (url: string, bytes: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes) });
    expect(res.status).toBe(200);
    return res.headers.get('etag')!.replace(/"/g, '');
  };
  /** One ObjectCreated record as Ceph RGW pushes it to the tracker's push route. */
  const objectCreated = (key: string, size: number, etag: string) => ({
    Records: [
      {
        eventVersion: '2.2',
        eventSource: 'ceph:s3',
        awsRegion: 'default',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Post',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'uploads',
          bucket: { name: api.storage.S3_BUCKET, arn: `arn:aws:s3:::${api.storage.S3_BUCKET}` },
          object: { key, size, eTag: etag.replace(/"/g, ''), versionId: '', sequencer: randomBytes(8).toString('hex').toUpperCase() },
        },
        eventId: randomUUID(),
      },
    ],
  });
  const sha256 = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const storedSha256 = async (key: string) => {
    const hash = createHash('sha256');
    for await (const chunk of await storage.openReadStream(key)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };

  describe('multipart, as Uppy 5 sends it (Authorization header)', () => {
    it("an upload in Uppy's 5 MiB parts: created without a size, parts signed one by one, listed, completed; the size is learnt from storage and charged then", async () => {
      const before = await quota();
      const created = await uppy5('POST', '/s3/multipart', {
        filename: 'clip.bin',
        type: 'application/octet-stream',
        metadata: { name: 'clip.bin', relativePath: null },
      });
      expect(created.status).toBe(200);
      const { key, uploadId } = created.body as { key: string; uploadId: string };
      expect(uploadId).toMatch(/^[0-9a-f-]{36}$/);
      expect(key).toContain(uploadId);
      // A normal upload in every other view: its size not known yet, nothing reserved.
      const view = await api.request('GET', `/v1/uploads/${uploadId}`, { token: alice });
      expect(view.body).toMatchObject({ status: 'pending', mode: 'multipart', size: 0, sizeKnown: false, maxPartNumber: 10_000, filename: 'clip.bin' });
      expect(await quota()).toEqual(before);

      const bytes = randomBytes(11 * MiB + 7);
      const layout = [
        [0, 5 * MiB],
        [5 * MiB, 10 * MiB],
        [10 * MiB, bytes.length],
      ];
      const etags: string[] = [];
      for (const [i, [from, to]] of layout.entries()) {
        const signed = await uppy5('GET', `/s3/multipart/${uploadId}/${i + 1}?key=${encodeURIComponent(key)}`);
        expect(signed.status).toBe(200);
        expect(signed.body).toEqual({ url: expect.stringMatching(/^http/), expires: expect.any(Number) });
        etags.push(await put(signed.body.url, bytes.subarray(from, to)));
      }
      const listed = await uppy5('GET', `/s3/multipart/${uploadId}?key=${encodeURIComponent(key)}`);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual(etags.map((ETag, i) => ({ PartNumber: i + 1, ETag, Size: layout[i][1] - layout[i][0] })));

      const done = await uppy5('POST', `/s3/multipart/${uploadId}/complete?key=${encodeURIComponent(key)}`, {
        parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag: `"${ETag}"` })),
      });
      expect(done.status).toBe(200);
      expect(done.body).toEqual({ location: expect.stringMatching(new RegExp(`/v1/uploads/${uploadId}$`)), key });
      // The size is now what storage holds, reserved against the quota until storage confirms it.
      const [row] = await api.sql<{ size: string; size_declared: boolean; status: string }>('SELECT size, size_declared, status FROM files WHERE id = $1', [
        uploadId,
      ]);
      expect(row).toEqual({ size: String(bytes.length), size_declared: true, status: 'completing' });
      expect(Number((await quota()).reserved)).toBe(Number(before.reserved) + bytes.length);

      await expect(completion.complete({ v: 1, fileId: uploadId })).resolves.toEqual({ outcome: 'completed' });
      expect(await storedSha256(key)).toBe(sha256(bytes));
    });

    it('batch signing (`/batch?partNumbers=`) answers one URL per part asked for', async () => {
      const created = await uppy5('POST', '/s3/multipart', { filename: 'batch.bin', type: '' });
      expect(created.status).toBe(200);
      const { key, uploadId } = created.body;
      const res = await uppy5('GET', `/s3/multipart/${uploadId}/batch?key=${encodeURIComponent(key)}&partNumbers=1,2,9`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.presignedUrls)).toEqual(['1', '2', '9']);
      // Uppy sends '' for a type the browser does not know.
      expect((await files.find(uploadId))!.contentType).toBe('application/octet-stream');
    });

    it('abort (DELETE, no body): {} and the upload aborted; again: {} (idempotent)', async () => {
      const { key, uploadId } = (await uppy5('POST', '/s3/multipart', { filename: 'gone.bin', type: 'application/octet-stream' })).body;
      const signed = await uppy5('GET', `/s3/multipart/${uploadId}/1?key=${encodeURIComponent(key)}`);
      await put(signed.body.url, randomBytes(MiB));
      const path = `/s3/multipart/${uploadId}?key=${encodeURIComponent(key)}`;
      expect(await uppy5('DELETE', path)).toMatchObject({ status: 200, body: {} });
      expect((await files.find(uploadId))!.status).toBe('aborted');
      expect(await uppy5('DELETE', path)).toMatchObject({ status: 200, body: {} });
    });

    it('parts beyond the quota: completion answers 403 quota_exceeded and reserves nothing; the upload can still be aborted', async () => {
      const small = await createTenant(api, { quotaBytes: 8 * MiB });
      const token = (await api.request('POST', '/v1/tokens', { token: small.apiKey, body: { ownerId: 'carol' } })).body.token as string;
      const { key, uploadId } = (await uppy5('POST', '/s3/multipart', { filename: 'big.bin', type: 'application/octet-stream' }, token)).body;
      const parts = [];
      for (const n of [1, 2]) {
        const signed = await uppy5('GET', `/s3/multipart/${uploadId}/${n}?key=${encodeURIComponent(key)}`, undefined, token);
        parts.push({ PartNumber: n, ETag: await put(signed.body.url, randomBytes(5 * MiB)) });
      }
      const res = await uppy5('POST', `/s3/multipart/${uploadId}/complete?key=${encodeURIComponent(key)}`, { parts }, token);
      expectProblem(res, 403, 'quota_exceeded');
      const [row] = await api.sql<{ size: string; status: string }>('SELECT size, status FROM files WHERE id = $1', [uploadId]);
      expect(row).toEqual({ size: '0', status: 'uploading' });
      const usage = await api.sql<{ reserved: string }>('SELECT reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1', [small.id]);
      expect(usage[0].reserved).toBe('0');
      expect((await uppy5('DELETE', `/s3/multipart/${uploadId}?key=${encodeURIComponent(key)}`, undefined, token)).status).toBe(200);
    });

    it("refuses what Companion refuses, as problems: no filename, a bad part number, a key that is not the upload's, another owner's upload", async () => {
      expectProblem(await uppy5('POST', '/s3/multipart', { type: 'image/jpeg' }), 400, 'validation_failed');
      const { key, uploadId } = (await uppy5('POST', '/s3/multipart', { filename: 'x.bin', type: 'application/octet-stream' })).body;
      expectProblem(await uppy5('GET', `/s3/multipart/${uploadId}/0?key=${encodeURIComponent(key)}`), 400, 'validation_failed');
      expectProblem(await uppy5('GET', `/s3/multipart/${uploadId}/10001?key=${encodeURIComponent(key)}`), 400, 'validation_failed');
      expectProblem(await uppy5('GET', `/s3/multipart/${uploadId}/1`), 400, 'validation_failed');
      expectProblem(await uppy5('GET', `/s3/multipart/${uploadId}/1?key=uploads/other`), 404, 'not_found');
      expectProblem(await uppy5('GET', `/s3/multipart/${uploadId}/1?key=${encodeURIComponent(key)}`, undefined, bob), 404, 'not_found');
      expectProblem(
        await uppy5('POST', `/s3/multipart/${uploadId}/complete?key=${encodeURIComponent(key)}`, { parts: [{ PartNumber: 1 }] }),
        400,
        'validation_failed',
      );
      expectProblem(await uppy5('GET', '/s3/sts'), 404, 'not_found');
      expectProblem(await uppy5('POST', '/s3/multipart', { filename: 'x.exe', type: 'text/html\r\nx: y' }), 400, 'validation_failed');
    });
  });

  describe('single upload by form POST, as Uppy 6 sends it (token in the path)', () => {
    it("GET /s3/params answers a POST policy bounded by the largest file the tenant takes; the form POST lands and storage's event makes the file uploaded with the size stored", async () => {
      const before = await quota();
      const res = await uppy6(
        'GET',
        `/s3/params?filename=${encodeURIComponent('note.txt')}&type=text%2Fplain&metadata%5Bname%5D=note.txt&metadata%5Btype%5D=text%2Fplain`,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ method: 'POST', url: expect.stringMatching(/^http/), expires: expect.any(Number) });
      const fields = res.body.fields as Record<string, string>;
      const policy = JSON.parse(Buffer.from(fields.Policy, 'base64').toString('utf8')) as { conditions: unknown[] };
      expect(policy.conditions).toContainEqual(['content-length-range', 0, 40 * MiB]);
      expect(policy.conditions).toContainEqual({ key: fields.key });
      expect(policy.conditions).toContainEqual({ 'Content-Type': 'text/plain' });

      const id = fields.key.split('/').at(-1)!;
      const file = (await files.find(id))!;
      expect(file).toMatchObject({ sizeDeclared: false, size: 0n, mode: 'single', filename: 'note.txt', metadata: { name: 'note.txt', type: 'text/plain' } });
      expect(await quota()).toEqual(before);

      const bytes = randomBytes(3000);
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(bytes)]), 'note.txt');
      const posted = await fetch(res.body.url, { method: 'POST', body: form });
      expect(posted.status).toBe(201);

      // Storage's event (as RGW pushes it) is what makes it uploaded, with the size storage holds.
      const head = (await storage.head(file.storageKey))!;
      const pushed = await tracker.push(`?access_token=${PUSH_SECRET}`, objectCreated(file.storageKey, head.size, head.etag!));
      expect(pushed.status).toBe(200);
      const after = (await files.find(id))!;
      expect(after).toMatchObject({ status: 'uploaded', size: 3000n, sizeDeclared: true });
      expect(Number((await quota()).used)).toBe(Number(before.used) + 3000);
      expect(await storedSha256(file.storageKey)).toBe(sha256(bytes));
    });

    it("bytes beyond the tenant's quota: storage's event rejects the upload, deletes the object and charges nothing", async () => {
      const small = await createTenant(api, { quotaBytes: 1000 });
      const token = (await api.request('POST', '/v1/tokens', { token: small.apiKey, body: { ownerId: 'dan' } })).body.token as string;
      const res = await uppy6('GET', '/s3/params?filename=big.bin&type=application%2Foctet-stream', undefined, token);
      expect(res.status).toBe(200);
      const key = res.body.fields.key as string;
      // moto checks no policy: the bytes land, as on a store whose bound is wider than the quota left.
      await createS3Client(api.storage).send(new PutObjectCommand({ Bucket: api.storage.S3_BUCKET, Key: key, Body: randomBytes(2000) }));
      const head = (await storage.head(key))!;
      expect((await tracker.push(`?access_token=${PUSH_SECRET}`, objectCreated(key, head.size, head.etag!))).status).toBe(200);
      const file = (await files.find(key.split('/').at(-1)!))!;
      expect(file).toMatchObject({ status: 'rejected', size: 0n, statusReason: expect.stringContaining('quota_exceeded') });
      expect(await storage.head(key)).toBeNull();
      const usage = await api.sql<{ reserved: string; used: string }>(
        'SELECT reserved_bytes AS reserved, used_bytes AS used FROM quota_totals WHERE tenant_id = $1',
        [small.id],
      );
      expect(usage[0]).toEqual({ reserved: '0', used: '0' });
    });

    it('a type the tenant does not take: 415 before anything is signed', async () => {
      const images = await createTenant(api, { allowedTypes: ['image/*'] });
      const token = (await api.request('POST', '/v1/tokens', { token: images.apiKey, body: { ownerId: 'erin' } })).body.token as string;
      expectProblem(await uppy6('GET', '/s3/params?filename=a.pdf&type=application%2Fpdf', undefined, token), 415, 'type_not_allowed');
    });
  });

  describe('credentials a browser can carry', () => {
    it('a token in the path that is not valid: 401, and the problem names the path without it', async () => {
      const res = await uppy6('GET', '/s3/params?filename=a.txt&type=text%2Fplain', undefined, 'not-a-token');
      expectProblem(res, 401, 'unauthorized');
      expect(res.body.instance).toBe('/companion/t/[redacted]/s3/params');
      expect(JSON.stringify(res.body)).not.toContain('not-a-token');
    });

    it('an API key in the path: 403 (only user tokens travel in URLs)', async () => {
      expectProblem(await uppy6('GET', '/s3/params?filename=a.txt&type=text%2Fplain', undefined, tenant.apiKey), 403, 'forbidden');
    });

    it('logs never show the token in the path', () => {
      expect(redactUrl(`/companion/t/${alice}/s3/multipart/x/1?key=k`)).toBe('/companion/t/[redacted]/s3/multipart/x/1?key=k');
    });

    it('the session cookie: set from a user token (HttpOnly, SameSite=Strict, Path=/companion), accepted by /companion, cleared by DELETE', async () => {
      const started = await api.request('POST', '/companion/session', { token: alice });
      expect(started.status).toBe(204);
      const cookie = String(started.headers['set-cookie']);
      expect(cookie).toMatch(/^upl_session=[^;]+; Path=\/companion; HttpOnly; SameSite=Strict$/);
      const jar = cookie.split(';')[0];
      const res = await api.request('POST', '/companion/s3/multipart', {
        headers: { cookie: jar },
        body: { filename: 'c.bin', type: 'application/octet-stream' },
      });
      expect(res.status).toBe(200);
      expect((await files.find(res.body.uploadId))!.ownerId).toBe('alice');
      const ended = await api.request('DELETE', '/companion/session', { headers: { cookie: jar } });
      expect(ended.status).toBe(204);
      expect(String(ended.headers['set-cookie'])).toMatch(/^upl_session=; Max-Age=0; Path=\/companion; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    });

    it('a session holds user tokens only: an API key is refused (403); with no credential at all, 401', async () => {
      expectProblem(await api.request('POST', '/companion/session', { token: tenant.apiKey, headers: { 'x-owner-id': 'alice' } }), 403, 'forbidden');
      expectProblem(await api.request('POST', '/companion/s3/multipart', { body: { filename: 'c.bin', type: 'text/plain' } }), 401, 'unauthorized');
    });
  });
});
