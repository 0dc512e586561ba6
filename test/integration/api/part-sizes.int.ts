import { createHash, randomBytes } from 'node:crypto';
import { GetBucketCorsCommand } from '@aws-sdk/client-s3';
import { ErrorCodes } from '@app/contracts';
import { FilePartRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { CompletionService } from '../../../apps/chunk-tracker/src/completion.service';
import { ApiHarness, createTenant, startApi } from './api-harness';

/**
 * Issue #14: a client (Uppy) picks its own part size, declared or not; completion checks the parts
 * storage holds, not the server's plan. Browser-safe answers: no Content-Length in `headers`, a
 * bodiless DELETE with a JSON content type, CORS for POST.
 */
const MiB = 1024 ** 2;

type PartUrl = { partNumber: number; url: string; headers: Record<string, string> };

describe('upload-api: client-chosen part sizes (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let storage: ObjectStorage;
  let completion: CompletionService;
  const as = { token: '', headers: { 'x-owner-id': 'alice' } };

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, { quotaBytes: 1024 ** 4 });
    as.token = tenant.apiKey;
    const { s3 } = testPresigner(api.storage);
    storage = new ObjectStorage(s3, api.storage.S3_BUCKET);
    // chunk-tracker's own completion job, on this API's database and bucket.
    completion = new CompletionService(
      api.app.get(FilePartRepository, { strict: false }),
      api.app.get(ObjectStorage, { strict: false }),
      api.app.get(FileLifecycle, { strict: false }),
    );
  });
  afterAll(async () => {
    await api.close();
  });

  const initiate = (body: Record<string, unknown>) => api.request('POST', '/v1/uploads', { ...as, body });
  const sign = (id: string, partNumbers: number[]) => api.request('POST', `/v1/uploads/${id}/parts`, { ...as, body: { partNumbers } });
  const complete = (id: string) => api.request('POST', `/v1/uploads/${id}/complete`, { ...as, body: {} });
  const put = async (p: PartUrl, body: Uint8Array) => {
    const res = await fetch(p.url, { method: 'PUT', headers: p.headers, body: body as Uint8Array<ArrayBuffer> });
    expect(res.status).toBe(200);
  };
  /** Sends `bytes` in parts of the given sizes (part 1 first), signing every part with the API. */
  const sendLayout = async (id: string, bytes: Buffer, sizes: number[], numbers = sizes.map((_, i) => i + 1)) => {
    const signed = await sign(id, numbers);
    expect(signed.status).toBe(200);
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      await put(signed.body.parts[i] as PartUrl, bytes.subarray(offset, offset + size));
      offset += size;
    }
  };
  const storedSha256 = async (id: string) => {
    const [row] = await api.sql<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [id]);
    const hash = createHash('sha256');
    for await (const chunk of await storage.openReadStream(row.storage_key)) hash.update(chunk as Buffer);
    return { sha256: hash.digest('hex'), head: await storage.head(row.storage_key) };
  };
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  /** A refusal is a problem document with a code from the one table, and never a 5xx. */
  const expectProblem = (res: { status: number; headers: Record<string, unknown>; body: any }, status: number, code: string) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code });
    expect(Object.keys(ErrorCodes)).toContain(code);
    expect(res.status).toBe(status);
  };

  it("a 60 MiB upload sent in Uppy's default 5 MiB parts, undeclared: parts 9-12 sign, completion succeeds and the object is whole", async () => {
    const bytes = randomBytes(60 * MiB);
    const res = await initiate({ filename: 'uppy.bin', size: bytes.length, contentType: 'application/octet-stream' });
    expect(res.status).toBe(201);
    // The server's plan stays the advice: 8 parts of 8 MiB; any part up to 12 (60 MiB at 5 MiB) signs.
    expect(res.body).toMatchObject({ mode: 'multipart', partSize: 8 * MiB, partCount: 8, maxPartNumber: 12 });
    expect(res.body.parts.map((p: PartUrl) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const later = await sign(res.body.id, [9, 10, 11, 12]);
    expect(later.status).toBe(200);
    expect(later.body.parts.map((p: PartUrl) => p.partNumber)).toEqual([9, 10, 11, 12]);
    const urls = [...(res.body.parts as PartUrl[]), ...(later.body.parts as PartUrl[])];
    for (const [i, p] of urls.entries()) await put(p, bytes.subarray(i * 5 * MiB, (i + 1) * 5 * MiB));

    // The view: the plan's partCount, the parts actually stored and the bytes they hold.
    const view = await api.request('GET', `/v1/uploads/${res.body.id}`, as);
    expect(view.body).toMatchObject({ status: 'uploading', partSize: 8 * MiB, partCount: 8, maxPartNumber: 12, bytesUploaded: 60 * MiB, partsFrom: 'storage' });
    expect(view.body.uploadedParts).toHaveLength(12);

    const done = await complete(res.body.id);
    expect(done.status).toBe(202);
    // chunk-tracker completes with the parts storage lists, whatever their size.
    await expect(completion.complete({ v: 1, fileId: res.body.id })).resolves.toEqual({ outcome: 'completed' });
    const stored = await storedSha256(res.body.id);
    expect(stored.head?.size).toBe(60 * MiB);
    expect(stored.sha256).toBe(sha256(bytes));
    // From completion on the view answers from the ledger: the 12 parts completion checked.
    const after = await api.request('GET', `/v1/uploads/${res.body.id}`, as);
    expect(after.body).toMatchObject({ status: 'completing', partsFrom: 'ledger', bytesUploaded: 60 * MiB });
    expect(after.body.uploadedParts.map((p: { size: number }) => p.size)).toEqual(Array<number>(12).fill(5 * MiB));
  });

  it('a declared part size of 6 MiB plans the upload in it, and the parts complete into the whole object', async () => {
    const bytes = randomBytes(27 * MiB + 17);
    const res = await initiate({ filename: 'six.bin', size: bytes.length, contentType: 'application/octet-stream', partSize: 6 * MiB });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mode: 'multipart', partSize: 6 * MiB, partCount: 5, maxPartNumber: 6 });
    const parts = res.body.parts as PartUrl[];
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5]);
    for (const [i, p] of parts.entries()) await put(p, bytes.subarray(i * 6 * MiB, (i + 1) * 6 * MiB));
    expect((await complete(res.body.id)).status).toBe(202);
    await expect(completion.complete({ v: 1, fileId: res.body.id })).resolves.toEqual({ outcome: 'completed' });
    expect((await storedSha256(res.body.id)).sha256).toBe(sha256(bytes));
  });

  it('a declared part size makes a small file multipart too, and initialPartUrls: 0 signs nothing up front', async () => {
    const res = await initiate({ filename: 'small.bin', size: MiB, contentType: 'application/octet-stream', partSize: 5 * MiB, initialPartUrls: 0 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ mode: 'multipart', partSize: 5 * MiB, partCount: 1, maxPartNumber: 1, parts: [] });
    const bytes = randomBytes(MiB);
    await sendLayout(res.body.id, bytes, [MiB]);
    expect((await complete(res.body.id)).status).toBe(202);
    await expect(completion.complete({ v: 1, fileId: res.body.id })).resolves.toEqual({ outcome: 'completed' });
    expect((await storedSha256(res.body.id)).sha256).toBe(sha256(bytes));
  });

  it.each([
    ['under 5 MiB', 20 * MiB, 5 * MiB - 1],
    ['over 5 GiB', 20 * MiB, 5 * 1024 ** 3 + 1],
    ['making more than 10,000 parts', 10_001 * 5 * MiB, 5 * MiB],
    ['for an empty file', 0, 5 * MiB],
    ['that is not a whole number', 20 * MiB, 5 * MiB + 0.5],
  ])('refuses a declared part size %s (400), reserving nothing', async (_, size, partSize) => {
    const before = await api.sql<{ n: string }>('SELECT count(*) AS n FROM files');
    const res = await initiate({ filename: 'bad.bin', size, contentType: 'application/octet-stream', partSize });
    expectProblem(res, 400, 'validation_failed');
    expect(JSON.stringify(res.body)).toContain('partSize');
    expect(await api.sql<{ n: string }>('SELECT count(*) AS n FROM files')).toEqual(before);
  });

  it.each([-1, 1001, 1.5])('refuses initialPartUrls %s (400)', async (initialPartUrls) => {
    expectProblem(await initiate({ filename: 'x.bin', size: 20 * MiB, contentType: 'application/octet-stream', initialPartUrls }), 400, 'validation_failed');
  });

  describe('refused layouts of a 17 MiB upload (planned as 8 + 8 + 1 MiB; at most 4 parts)', () => {
    const layoutUpload = async () => {
      const res = await initiate({ filename: 'layout.bin', size: 17 * MiB, contentType: 'application/octet-stream', initialPartUrls: 0 });
      expect(res.body).toMatchObject({ mode: 'multipart', partSize: 8 * MiB, partCount: 3, maxPartNumber: 4, parts: [] });
      return res.body.id as string;
    };
    const bytes = randomBytes(18 * MiB);

    it('a middle part under 5 MiB: 409 part_mismatch naming it, and the upload still takes parts', async () => {
      const id = await layoutUpload();
      await sendLayout(id, bytes, [5 * MiB, 2 * MiB, 5 * MiB, 5 * MiB]);
      const res = await complete(id);
      expectProblem(res, 409, 'part_mismatch');
      expect(res.body.mismatchedParts).toEqual([{ partNumber: 2, reason: expect.stringContaining('at least 5242880 bytes') }]);
      // Re-sending the parts in a valid layout repairs it.
      await sendLayout(id, bytes, [5 * MiB, 5 * MiB, 5 * MiB, 2 * MiB]);
      expect((await complete(id)).status).toBe(202);
    });

    it('parts that are not contiguous: 409 parts_missing naming the gap', async () => {
      const id = await layoutUpload();
      const signed = await sign(id, [1, 3]);
      await put(signed.body.parts[0] as PartUrl, bytes.subarray(0, 8 * MiB));
      await put(signed.body.parts[1] as PartUrl, bytes.subarray(8 * MiB, 17 * MiB));
      const res = await complete(id);
      expectProblem(res, 409, 'parts_missing');
      expect(res.body).toMatchObject({ missingParts: [2], missingCount: 1 });
    });

    it('parts holding fewer bytes than declared: 409 parts_missing naming the parts to come', async () => {
      const id = await layoutUpload();
      await sendLayout(id, bytes, [5 * MiB, 5 * MiB]);
      const res = await complete(id);
      expectProblem(res, 409, 'parts_missing');
      // Named in the layout in use (5 MiB parts): 3 and 4.
      expect(res.body).toMatchObject({ missingParts: [3, 4], missingCount: 2, missingBytes: 7 * MiB });
    });

    it('parts holding more bytes than declared: 409 part_mismatch', async () => {
      const id = await layoutUpload();
      await sendLayout(id, bytes, [5 * MiB, 5 * MiB, 5 * MiB, 3 * MiB]);
      const res = await complete(id);
      expectProblem(res, 409, 'part_mismatch');
      expect(res.body.mismatchedParts).toEqual([{ partNumber: 4, reason: `the parts hold ${18 * MiB} bytes; the upload declared ${17 * MiB}` }]);
    });

    it('part numbers beyond the most the size allows (ceil(size / 5 MiB), at most 10,000): 400, signing and reporting alike', async () => {
      const id = await layoutUpload();
      const beyond = await sign(id, [4, 5]);
      expectProblem(beyond, 400, 'validation_failed');
      expect(beyond.body.errors).toEqual([{ field: 'partNumbers', message: 'part 5 is beyond part 4, the highest allowed' }]);
      expectProblem(await sign(id, [10_001]), 400, 'validation_failed');
      expectProblem(await sign(id, [0]), 400, 'validation_failed');
      expectProblem(await api.request('PUT', `/v1/uploads/${id}/parts/5`, { ...as, body: { etag: 'e', size: MiB } }), 400, 'validation_failed');
      expect((await api.request('PUT', `/v1/uploads/${id}/parts/4`, { ...as, body: { etag: 'e', size: MiB } })).status).toBe(204);
    });
  });

  describe('browser-safe answers', () => {
    it('a single PUT lists no Content-Length (browsers refuse to set it) but keeps it signed, and a PUT with the headers as given stores the file', async () => {
      const bytes = Buffer.from('browser bytes');
      const res = await initiate({ filename: 'b.txt', size: bytes.length, contentType: 'text/plain' });
      expect(res.body.upload.headers).toEqual({ 'content-type': 'text/plain', 'if-none-match': '*' });
      expect(new URL(res.body.upload.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match');
      const stored = await fetch(res.body.upload.url, { method: 'PUT', headers: res.body.upload.headers, body: bytes });
      expect(stored.status).toBe(200);
      expect((await storedSha256(res.body.id)).sha256).toBe(sha256(bytes));
      // Re-signing the single PUT answers the same browser-safe headers.
      const again = await sign(res.body.id, [1]);
      expect(Object.keys(again.body.parts[0].headers)).not.toContain('content-length');
    });

    it('aborts with DELETE sent with Content-Type: application/json and no body (Uppy)', async () => {
      const res = await initiate({ filename: 'c.bin', size: 20 * MiB, contentType: 'application/octet-stream', initialPartUrls: 0 });
      const abort = await api.request('DELETE', `/v1/uploads/${res.body.id}`, {
        ...as,
        headers: { ...as.headers, 'content-type': 'application/json' },
        rawBody: '',
      });
      expect(abort.status).toBe(204);
      expect((await api.request('GET', `/v1/uploads/${res.body.id}`, as)).body.status).toBe('aborted');
    });

    it('storage CORS allows POST (form uploads) beside PUT, GET and HEAD, and exposes the ETag', async () => {
      const { s3 } = testPresigner(api.storage);
      const cors = await s3.send(new GetBucketCorsCommand({ Bucket: api.storage.S3_BUCKET }));
      expect(cors.CORSRules?.[0].AllowedMethods).toEqual(expect.arrayContaining(['PUT', 'POST', 'GET', 'HEAD']));
      expect(cors.CORSRules?.[0].ExposeHeaders).toContain('ETag');
    });
  });
});
