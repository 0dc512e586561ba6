import fc from 'fast-check';
import { createHash, randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { ApiHarness, createTenant, startApi } from './api-harness';

const MiB = 1024 ** 2;

describe('upload-api: uploads (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let storage: ObjectStorage;
  const as = (owner: string) => ({ token: tenant.apiKey, headers: { 'x-owner-id': owner } });

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, { quotaBytes: 1024 ** 4 });
    const { s3 } = testPresigner(api.storage);
    storage = new ObjectStorage(s3, api.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await api.close();
  });

  const initiate = (body: Record<string, unknown>, owner = 'alice') => api.request('POST', '/v1/uploads', { ...as(owner), body });
  const fileRows = async () => Number((await api.sql<{ n: string }>('SELECT count(*) AS n FROM files'))[0].n);
  const quota = async (tenantId = tenant.id) =>
    (await api.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId]))[0];

  it('a small file gets one single-use presigned PUT, with type and length signed, under a key made of ids', async () => {
    const res = await initiate({ filename: 'photo.jpg', size: 11, contentType: 'image/jpeg' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      mode: 'single',
      size: 11,
      // Content-Length is signed (X-Amz-SignedHeaders below) but not listed: browsers refuse to set it (#14).
      upload: { method: 'PUT', headers: { 'content-type': 'image/jpeg', 'if-none-match': '*' } },
    });
    const url = new URL(res.body.upload.url);
    expect(url.pathname).toBe(`/${api.storage.S3_BUCKET}/uploads/${tenant.id}/${res.body.id}`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    const put = await fetch(res.body.upload.url, { method: 'PUT', headers: res.body.upload.headers, body: 'hello world' });
    expect(put.status).toBe(200);
    const view = await api.request('GET', `/v1/uploads/${res.body.id}`, as('alice'));
    expect(view.body).toMatchObject({ id: res.body.id, status: 'pending', mode: 'single', filename: 'photo.jpg', size: 11, uploadedParts: [] });
  });

  it('a client that asks for a form upload gets a POST policy; the browser-style form POST stores the file', async () => {
    const bytes = Buffer.from('a form upload, as a browser sends it');
    const res = await initiate({ filename: 'form.txt', size: bytes.length, contentType: 'text/plain', form: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      mode: 'single',
      upload: { method: 'PUT' },
      form: { method: 'POST', fields: { key: `uploads/${tenant.id}/${res.body.id}`, 'Content-Type': 'text/plain' } },
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(res.body.form.fields as Record<string, string>)) form.append(name, value);
    form.append('file', new Blob([bytes], { type: 'text/plain' }), 'form.txt');
    const posted = await fetch(res.body.form.url, { method: 'POST', body: form });
    expect(posted.status).toBe(201);
    expect(await storage.head(`uploads/${tenant.id}/${res.body.id}`)).toMatchObject({ size: bytes.length, contentType: 'text/plain' });

    // A form POST is one request: not with a part size, not past S3's 5 GiB for one write.
    const refused = await initiate({ filename: 'x.bin', size: 20 * MiB, contentType: 'text/plain', form: true, partSize: 5 * MiB });
    expect(refused).toMatchObject({ status: 400, body: { code: 'validation_failed', errors: [{ field: 'form' }] } });
  });

  it('signs the declared SHA-256 into a single PUT', async () => {
    const body = Buffer.from('checked bytes');
    const sha256 = createHash('sha256').update(body).digest('hex');
    const res = await initiate({ filename: 'a.txt', size: body.length, contentType: 'text/plain', sha256 });
    expect(res.body.upload.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256, 'hex').toString('base64'));
    expect(new URL(res.body.upload.url).searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-checksum-sha256');
  });

  it('a large file gets a part plan and the first batch of part URLs; resume shows what storage holds', async () => {
    const size = 20 * MiB + 5;
    const res = await initiate({ filename: 'video.mp4', size, contentType: 'video/mp4' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mode: 'multipart', partSize: 8 * MiB, partCount: 3 });
    expect(res.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);
    const [p1, p2] = res.body.parts as Array<{ url: string; headers: Record<string, string> }>;
    await fetch(p1.url, { method: 'PUT', headers: p1.headers, body: new Uint8Array(8 * MiB) });
    await fetch(p2.url, { method: 'PUT', headers: p2.headers, body: new Uint8Array(8 * MiB) });

    const view = await api.request('GET', `/v1/uploads/${res.body.id}`, as('alice'));
    expect(view.body.uploadedParts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2]);
    expect(view.body.bytesUploaded).toBe(16 * MiB);
    expect(view.body.partsFrom).toBe('storage');
    // A status poll asks the ledger, not storage: nothing was reported, so it knows no part yet.
    const poll = await api.request('GET', `/v1/uploads/${res.body.id}?parts=ledger`, as('alice'));
    expect(poll.body).toMatchObject({ status: 'pending', partsFrom: 'ledger', uploadedParts: [], bytesUploaded: 0 });
    expect((await api.request('GET', `/v1/uploads/${res.body.id}?parts=all`, as('alice'))).status).toBe(400);

    const missing = await api.request('POST', `/v1/uploads/${res.body.id}/complete`, { ...as('alice'), body: {} });
    expect(missing.status).toBe(409);
    expect(missing.body).toMatchObject({ code: 'parts_missing', missingParts: [3] });

    const again = await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: { partNumbers: [3] } });
    expect(again.status).toBe(200);
    await fetch(again.body.parts[0].url, { method: 'PUT', body: new Uint8Array(4 * MiB + 5) });
    const wrongEtag = await api.request('POST', `/v1/uploads/${res.body.id}/complete`, {
      ...as('alice'),
      body: { parts: [{ partNumber: 1, etag: 'not-it' }] },
    });
    expect(wrongEtag.body).toMatchObject({ code: 'part_mismatch', mismatchedParts: [{ partNumber: 1 }] });

    const done = await api.request('POST', `/v1/uploads/${res.body.id}/complete`, { ...as('alice'), body: {} });
    expect(done.status).toBe(202);
    expect(done.body).toEqual({ id: res.body.id, status: 'completing' });
    const [row] = await api.sql<{ status: string }>('SELECT status FROM files WHERE id = $1', [res.body.id]);
    expect(row.status).toBe('completing');
    // From completion on, the view answers from the ledger, which holds the listing completion checked.
    const completing = await api.request('GET', `/v1/uploads/${res.body.id}`, as('alice'));
    expect(completing.body).toMatchObject({ status: 'completing', partsFrom: 'ledger', bytesUploaded: size });
    expect(completing.body.uploadedParts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).toEqual([
      [1, 8 * MiB],
      [2, 8 * MiB],
      [3, 4 * MiB + 5],
    ]);
  });

  it('answers for an upload storage has completed before its event arrived (no 404 in that window)', async () => {
    const res = await initiate({ filename: 'window.bin', size: 20 * MiB, contentType: 'application/octet-stream' });
    const sizes = [8 * MiB, 8 * MiB, 4 * MiB];
    for (const [i, p] of (res.body.parts as Array<{ url: string }>).entries()) await fetch(p.url, { method: 'PUT', body: new Uint8Array(sizes[i]) });
    expect((await api.request('POST', `/v1/uploads/${res.body.id}/complete`, { ...as('alice'), body: {} })).status).toBe(202);
    // What chunk-tracker's completion job does; the S3 event that would follow is not processed here.
    const [row] = await api.sql<{ storage_key: string; s3_upload_id: string }>('SELECT storage_key, s3_upload_id FROM files WHERE id = $1', [res.body.id]);
    await storage.completeMultipartUpload(row.storage_key, row.s3_upload_id, await storage.listParts(row.storage_key, row.s3_upload_id));
    const view = await api.request('GET', `/v1/uploads/${res.body.id}`, as('alice'));
    expect(view.status).toBe(200);
    expect(view.body.status).toBe('completing');
  });

  it('signs parts lazily in batches of up to 1,000, up to the most parts the size allows', async () => {
    const res = await initiate({ filename: 'big.bin', size: 200 * 1024 ** 3, contentType: 'application/octet-stream' });
    expect(res.status).toBe(201);
    // 200 GiB / 10,000 parts rounds up to 21 MiB parts.
    expect(res.body).toMatchObject({ partSize: 21 * MiB, partCount: Math.ceil((200 * 1024 ** 3) / (21 * MiB)) });
    expect(res.body.parts).toHaveLength(100);
    const batch = await api.request('POST', `/v1/uploads/${res.body.id}/parts`, {
      ...as('alice'),
      body: { partNumbers: Array.from({ length: 1000 }, (_, i) => i + 101) },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.parts).toHaveLength(1000);
    expect(
      (await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: { partNumbers: Array.from({ length: 1001 }, (_, i) => i + 1) } }))
        .status,
    ).toBe(400);
    // Any part number up to ceil(size / 5 MiB), at most 10,000, signs: the client may choose its own part size (#14).
    expect(res.body.maxPartNumber).toBe(10_000);
    expect((await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: { partNumbers: [res.body.partCount + 1] } })).status).toBe(
      200,
    );
    expect(
      (await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: { partNumbers: [res.body.maxPartNumber + 1] } })).status,
    ).toBe(400);
    expect((await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: { partNumbers: [1, 1] } })).status).toBe(400);
  });

  it('enforces the tenant limits: size (413), type (415), quota (403), and writes nothing', async () => {
    const small = await createTenant(api, { quotaBytes: 100, maxFileBytes: 50, allowedTypes: ['image/*'] });
    const before = await fileRows();
    const big = await api.request('POST', '/v1/uploads', {
      token: small.apiKey,
      headers: { 'x-owner-id': 'o' },
      body: { filename: 'a.png', size: 51, contentType: 'image/png' },
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('file_too_large');
    const exe = await api.request('POST', '/v1/uploads', {
      token: small.apiKey,
      headers: { 'x-owner-id': 'o' },
      body: { filename: 'a.exe', size: 5, contentType: 'application/x-msdownload' },
    });
    expect(exe.status).toBe(415);
    expect(exe.body.code).toBe('type_not_allowed');
    expect(await fileRows()).toBe(before);
    expect(
      (
        await api.request('POST', '/v1/uploads', {
          token: small.apiKey,
          headers: { 'x-owner-id': 'o' },
          body: { filename: 'a.png', size: 50, contentType: 'image/png' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api.request('POST', '/v1/uploads', {
          token: small.apiKey,
          headers: { 'x-owner-id': 'o' },
          body: { filename: 'b.png', size: 50, contentType: 'image/png' },
        })
      ).status,
    ).toBe(201);
    const over = await api.request('POST', '/v1/uploads', {
      token: small.apiKey,
      headers: { 'x-owner-id': 'o' },
      body: { filename: 'c.png', size: 1, contentType: 'image/png' },
    });
    expect(over.status).toBe(403);
    expect(over.body.code).toBe('quota_exceeded');
    expect(await quota(small.id)).toEqual({ used_bytes: '0', reserved_bytes: '100' });
  });

  it('50 concurrent initiations cannot exceed a quota', async () => {
    const team = await createTenant(api, { quotaBytes: 10 * MiB });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api.request('POST', '/v1/uploads', {
          token: team.apiKey,
          headers: { 'x-owner-id': `o${i}` },
          body: { filename: `f${i}`, size: MiB, contentType: 'application/octet-stream' },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 403 && r.body.code === 'quota_exceeded')).toHaveLength(40);
    expect(await quota(team.id)).toEqual({ used_bytes: '0', reserved_bytes: String(10 * MiB) });
    const [rows] = await api.sql<{ n: string }>('SELECT count(*) AS n FROM files WHERE tenant_id = $1', [team.id]);
    expect(rows.n).toBe('10');
  });

  it('spreads one tenant over quota stripes whose allotments never pass its quota', async () => {
    const team = await createTenant(api, { quotaBytes: 64 * MiB });
    const sizes = Array.from({ length: 120 }, (_, i) => ((i * 7919) % 13) * 100 * 1024 + 1);
    const results = await Promise.all(
      sizes.map((size, i) =>
        api.request('POST', '/v1/uploads', {
          token: team.apiKey,
          headers: { 'x-owner-id': `o${i % 5}` },
          body: { filename: `f${i}`, size, contentType: 'application/octet-stream' },
        }),
      ),
    );
    const admitted = results.flatMap((r, i) => (r.status === 201 ? [{ id: r.body.id as string, size: sizes[i] }] : []));
    expect(results.every((r) => r.status === 201 || (r.status === 403 && r.body.code === 'quota_exceeded'))).toBe(true);
    // Aborts release to the stripe each upload was charged to (a wrong stripe would go negative).
    for (const { id } of admitted.slice(0, 20)) {
      expect((await api.request('DELETE', `/v1/uploads/${id}`, { token: team.apiKey, headers: { 'x-owner-id': 'o0' } })).status).toBeLessThan(500);
    }
    const [books] = await api.sql<{ stripes: string; allotted: string; held: string; files: string; reserved: string }>(
      `SELECT (SELECT count(*) FROM quota_usage WHERE tenant_id = $1) AS stripes,
              (SELECT sum(allotment_bytes) FROM quota_usage WHERE tenant_id = $1) AS allotted,
              (SELECT sum(used_bytes + reserved_bytes) FROM quota_usage WHERE tenant_id = $1) AS held,
              (SELECT count(DISTINCT quota_stripe) FROM files WHERE tenant_id = $1) AS files,
              (SELECT coalesce(sum(size), 0) FROM files WHERE tenant_id = $1 AND status = 'pending') AS reserved`,
      [team.id],
    );
    expect(Number(books.stripes)).toBeGreaterThan(1);
    expect(Number(books.files)).toBeGreaterThan(1);
    expect(BigInt(books.allotted)).toBeLessThanOrEqual(BigInt(64 * MiB));
    expect(books.held).toBe(books.reserved);
    const [perStripe] = await api.sql<{ over: string }>(
      `SELECT count(*) AS over FROM quota_usage q
       WHERE tenant_id = $1 AND reserved_bytes <> (SELECT coalesce(sum(size), 0) FROM files f WHERE f.tenant_id = q.tenant_id AND f.quota_stripe = q.stripe AND f.status = 'pending')`,
      [team.id],
    );
    expect(perStripe.over).toBe('0');
  });

  it('another owner or tenant sees 404 for an upload, never 403', async () => {
    const res = await initiate({ filename: 'mine.txt', size: 1, contentType: 'text/plain' }, 'alice');
    const other = await createTenant(api);
    for (const [method, path, body] of [
      ['GET', `/v1/uploads/${res.body.id}`, undefined],
      ['POST', `/v1/uploads/${res.body.id}/complete`, {}],
      ['POST', `/v1/uploads/${res.body.id}/parts`, { partNumbers: [1] }],
      ['DELETE', `/v1/uploads/${res.body.id}`, undefined],
    ] as const) {
      expect((await api.request(method, path, { ...as('bob'), body })).status).toBe(404);
      expect((await api.request(method, path, { token: other.apiKey, headers: { 'x-owner-id': 'alice' }, body })).status).toBe(404);
    }
    expect((await api.request('GET', '/v1/uploads/not-a-uuid', as('alice'))).status).toBe(404);
    expect((await api.request('GET', `/v1/uploads/${randomUUID()}`, as('alice'))).status).toBe(404);
    // A user token acts only for its own owner.
    const { token } = (await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'alice' } })).body as { token: string };
    expect((await api.request('GET', `/v1/uploads/${res.body.id}`, { token })).status).toBe(200);
    const bobToken = ((await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'bob' } })).body as { token: string }).token;
    expect((await api.request('GET', `/v1/uploads/${res.body.id}`, { token: bobToken })).status).toBe(404);
  });

  it('abort releases the quota, removes the multipart upload from storage, and is idempotent', async () => {
    const team = await createTenant(api, { quotaBytes: 100 * MiB });
    const res = await api.request('POST', '/v1/uploads', {
      token: team.apiKey,
      headers: { 'x-owner-id': 'o' },
      body: { filename: 'x.bin', size: 30 * MiB, contentType: 'application/octet-stream' },
    });
    const [row] = await api.sql<{ s3_upload_id: string; storage_key: string }>('SELECT s3_upload_id, storage_key FROM files WHERE id = $1', [res.body.id]);
    expect((await storage.listMultipartUploads('uploads/')).map((u) => u.uploadId)).toContain(row.s3_upload_id);
    expect(await quota(team.id)).toEqual({ used_bytes: '0', reserved_bytes: String(30 * MiB) });

    expect((await api.request('DELETE', `/v1/uploads/${res.body.id}`, { token: team.apiKey, headers: { 'x-owner-id': 'o' } })).status).toBe(204);
    expect((await api.request('DELETE', `/v1/uploads/${res.body.id}`, { token: team.apiKey, headers: { 'x-owner-id': 'o' } })).status).toBe(204);
    expect(await quota(team.id)).toEqual({ used_bytes: '0', reserved_bytes: '0' });
    expect((await storage.listMultipartUploads('uploads/')).map((u) => u.uploadId)).not.toContain(row.s3_upload_id);
    const view = await api.request('GET', `/v1/uploads/${res.body.id}`, { token: team.apiKey, headers: { 'x-owner-id': 'o' } });
    expect(view.body.status).toBe('aborted');
    const complete = await api.request('POST', `/v1/uploads/${res.body.id}/complete`, { token: team.apiKey, headers: { 'x-owner-id': 'o' }, body: {} });
    expect(complete).toMatchObject({ status: 409, body: { status: 409, code: 'invalid_state', uploadStatus: 'aborted' } });
    const changes = await api.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [res.body.id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'upload.aborted']);
  });

  it('hostile filenames never reach a key; control characters and over-long names are refused', async () => {
    for (const filename of ['../../x', '..\\..\\boot.ini', 'a\u202Egnp.exe', '/etc/passwd', 'name with spaces & ümlauts.txt']) {
      const res = await initiate({ filename, size: 1, contentType: 'text/plain' });
      expect(res.status).toBe(201);
      const [row] = await api.sql<{ storage_key: string; filename: string }>('SELECT storage_key, filename FROM files WHERE id = $1', [res.body.id]);
      expect(row.storage_key).toBe(`uploads/${tenant.id}/${res.body.id}`);
      expect(row.filename).toBe(filename);
    }
    for (const filename of ['a\u0000b', 'line\nbreak', 'tab\there', 'bell\u0007', 'c1\u0085', 'x'.repeat(256), 'é'.repeat(150), '   ']) {
      const res = await initiate({ filename, size: 1, contentType: 'text/plain' });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('filename');
    }
  });

  it('property: no initiation body answers 5xx, and a rejected one writes no row', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              filename: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant('')),
              size: fc.oneof(fc.integer(), fc.double(), fc.bigInt().map(String), fc.constant(-1), fc.constant(6 * 1024 ** 4)),
              contentType: fc.oneof(fc.constantFrom('image/png', 'text/plain', 'bad', ''), fc.string()),
              sha256: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), fc.string()),
              metadata: fc.oneof(fc.anything(), fc.dictionary(fc.string(), fc.string({ maxLength: 3000 }))),
            },
            { requiredKeys: [] },
          ),
        ),
        async (body) => {
          const before = await fileRows();
          const res = await initiate(body as Record<string, unknown>, `prop-${randomUUID()}`);
          expect(res.status).toBeLessThan(500);
          if (res.status !== 201) expect(await fileRows()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: part, complete and report bodies never answer 5xx', async () => {
    const res = await initiate({ filename: 'p.bin', size: 40 * MiB, contentType: 'application/octet-stream' });
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), fc.oneof(fc.integer(), fc.string()), async (a, b, n) => {
        expect((await api.request('POST', `/v1/uploads/${res.body.id}/parts`, { ...as('alice'), body: a })).status).toBeLessThan(500);
        expect((await api.request('POST', `/v1/uploads/${res.body.id}/complete`, { ...as('alice'), body: b })).status).toBeLessThan(500);
        expect(
          (await api.request('PUT', `/v1/uploads/${res.body.id}/parts/${encodeURIComponent(String(n))}`, { ...as('alice'), body: a })).status,
        ).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('metadata is limited to 4 KiB', async () => {
    expect((await initiate({ filename: 'm', size: 1, contentType: 'text/plain', metadata: { note: 'x'.repeat(5000) } })).status).toBe(400);
    const ok = await initiate({ filename: 'm', size: 1, contentType: 'text/plain', metadata: { album: 'summer', tags: ['a', 'b'] } });
    expect(ok.status).toBe(201);
  });

  it('has no SQS client: only chunk-tracker consumes storage events', () => {
    expect(() => api.app.get(SQSClient, { strict: false })).toThrow(/could not find/);
  });
});
