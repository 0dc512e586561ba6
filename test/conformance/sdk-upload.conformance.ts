import { createHash, randomUUID } from 'node:crypto';
import type { FastPresigner } from '@app/storage';
import { fromBytes, StorageUploadError, UploadClient } from '@app/sdk';
import { createRgwStorage, rgwPresigner, RgwTestStorage, testConfig } from '@app/testing';
import { bytes, MiB, newKey } from './rgw-requests';

const PART_SIZE = 5 * MiB;
const API = 'http://upload-api.conformance';
const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * The SDK's own storage requests (single PUT and parallel parts, with the SHA-256 checksums it
 * signs by default) against RGW. upload-api is replaced by a small fake that signs with the
 * services' presigner and completes through ObjectStorage, as upload-api does; every other
 * request goes to RGW, and its answers are recorded.
 */
function fakeApi(rgw: RgwTestStorage, presigner: FastPresigner) {
  const uploads = new Map<string, { key: string; uploadId?: string; checksums: Map<number, string> }>();
  const storageAnswers: Array<{ method: string; status: number }> = [];
  const fetchImpl = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (!url.startsWith(API)) {
      const res = await fetch(input, init);
      storageAnswers.push({ method: init.method ?? 'GET', status: res.status });
      return res;
    }
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const path = url.slice(API.length);
    if (path === '/v1/uploads') {
      const { size, contentType, sha256 } = body as { size: number; contentType: string; sha256?: string };
      const id = randomUUID();
      const key = newKey();
      const expiresAt = new Date(Date.now() + 900_000).toISOString();
      if (size <= PART_SIZE) {
        uploads.set(id, { key, checksums: new Map() });
        const put = await presigner.putObject(key, { contentType, contentLength: size, checksumSha256: sha256 ? hexToBase64(sha256) : undefined });
        return json({ id, status: 'pending', mode: 'single', size, expiresAt, upload: { method: 'PUT', url: put.url, headers: put.headers } }, 201);
      }
      const uploadId = await rgw.storage.createMultipartUpload(key, { contentType, checksumSha256: body.checksum === 'sha256' });
      uploads.set(id, { key, uploadId, checksums: new Map() });
      return json({ id, status: 'pending', mode: 'multipart', size, partSize: PART_SIZE, partCount: Math.ceil(size / PART_SIZE), expiresAt, parts: [] }, 201);
    }
    const [, id, action] = /^\/v1\/uploads\/([^/]+)\/(parts|complete)$/.exec(path) ?? [];
    const upload = uploads.get(id);
    if (!upload?.uploadId) return json({ code: 'not_found' }, 404);
    if (action === 'parts') {
      const { partNumbers, checksums = {} } = body as { partNumbers: number[]; checksums?: Record<string, string> };
      for (const [n, c] of Object.entries(checksums)) upload.checksums.set(Number(n), c);
      const parts = await presigner.uploadParts(
        upload.key,
        upload.uploadId,
        partNumbers.map((partNumber) => ({ partNumber, checksumSha256: checksums[String(partNumber)] })),
      );
      return json({ parts: parts.map((p) => ({ partNumber: p.partNumber, url: p.url, headers: p.headers, expiresAt: p.expiresAt.toISOString() })) });
    }
    const { parts } = body as { parts: Array<{ partNumber: number; etag: string }> };
    await rgw.storage.completeMultipartUpload(
      upload.key,
      upload.uploadId,
      parts.map((p) => ({ ...p, checksumSha256: upload.checksums.get(p.partNumber) ?? null })),
    );
    return json({ id, status: 'completing' });
  }) as typeof fetch;
  const client = new UploadClient({ baseUrl: API, token: 't', fetch: fetchImpl, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
  return { client, uploads, storageAnswers };
}

describe('the SDK uploading through presigned URLs to an S3 that enforces signatures (Ceph RGW)', () => {
  let rgw: RgwTestStorage;

  beforeAll(async () => {
    rgw = await createRgwStorage(testConfig());
  });
  afterAll(async () => {
    await rgw?.dispose();
  });

  const storedSha256 = async (key: string) => {
    const hash = createHash('sha256');
    for await (const chunk of await rgw.storage.openReadStream(key)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };

  it('a multipart upload (3 parts, with its part checksums signed): RGW answers 200 to every part, and the object holds the bytes', async () => {
    const api = fakeApi(rgw, rgwPresigner(rgw));
    const data = bytes(2 * PART_SIZE + 4096);
    const upload = api.client.upload(fromBytes(data), { filename: 'movie.mp4', contentType: 'video/mp4', concurrency: 3 });
    const { id, status } = await upload.done;
    expect(status).toBe('completing');
    expect(api.storageAnswers).toEqual([
      { method: 'PUT', status: 200 },
      { method: 'PUT', status: 200 },
      { method: 'PUT', status: 200 },
    ]);
    expect(await storedSha256(api.uploads.get(id)!.key)).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('a single PUT (type, length, If-None-Match and checksum signed): RGW answers 200, and the object holds the bytes', async () => {
    const api = fakeApi(rgw, rgwPresigner(rgw));
    const data = bytes(100 * 1024);
    const { id } = await api.client.upload(fromBytes(data), { filename: 'a.pdf', contentType: 'application/pdf' }).done;
    expect(api.storageAnswers).toEqual([{ method: 'PUT', status: 200 }]);
    expect(await storedSha256(api.uploads.get(id)!.key)).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('part URLs signed with another secret: RGW answers 403 to every attempt, and the SDK fails with StorageUploadError 403 after re-signing', async () => {
    const { accessKeyId } = await rgw.s3.config.credentials();
    const api = fakeApi(rgw, rgwPresigner(rgw, { credentials: { accessKeyId, secretAccessKey: 'not-the-secret' } }));
    const upload = api.client.upload(fromBytes(bytes(PART_SIZE + 1)), { filename: 'f.bin', concurrency: 1 });
    const failure = await upload.done.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageUploadError);
    expect(failure).toMatchObject({ partNumber: 1, status: 403 });
    expect(api.storageAnswers).toEqual([
      { method: 'PUT', status: 403 },
      { method: 'PUT', status: 403 },
    ]);
  });
});
