import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { ApiHarness, createTenant, startApi } from './api-harness';

const MiB = 1024 ** 2;

/**
 * Issue #11, finding 2: storage losing an upload in progress, and storage down. A multipart upload
 * whose upload id storage no longer knows ends `aborted` with its reason, its reservation
 * released and the owner told; an outage leaves the upload's status readable from the ledger.
 */
describe('upload-api: when storage loses an upload or is down (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let storage: ObjectStorage;
  const as = { token: '', headers: { 'x-owner-id': 'alice' } };

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, { quotaBytes: 1024 ** 4 });
    as.token = tenant.apiKey;
    const { s3 } = testPresigner(api.storage);
    storage = new ObjectStorage(s3, api.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await api?.close();
  });

  const reserved = async () =>
    (await api.sql<{ reserved_bytes: string }>('SELECT reserved_bytes FROM quota_totals WHERE tenant_id = $1', [tenant.id]))[0].reserved_bytes;
  /** A multipart upload whose upload id storage then forgets (as a bucket lifecycle rule would). */
  const lostUpload = async () => {
    const created = await api.request('POST', '/v1/uploads', { ...as, body: { filename: 'big.bin', size: 64 * MiB, contentType: 'application/octet-stream' } });
    const [row] = await api.sql<{ s3_upload_id: string; storage_key: string }>('SELECT s3_upload_id, storage_key FROM files WHERE id = $1', [created.body.id]);
    await storage.abortMultipartUpload(row.storage_key, row.s3_upload_id);
    return created.body.id as string;
  };
  const changes = async (id: string) =>
    api.sql<{ type: string; payload: { reason?: string } }>('SELECT type, payload FROM change_events WHERE file_id = $1 ORDER BY seq', [id]);

  it('completing an upload storage lost answers 410 upload_lost, and the upload ends aborted with its reservation released', async () => {
    const before = await reserved();
    const id = await lostUpload();
    const res = await api.request('POST', `/v1/uploads/${id}/complete`, { ...as, body: {} });
    expect(res).toMatchObject({ status: 410, body: { code: 'upload_lost', uploadStatus: 'aborted' } });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const view = await api.request('GET', `/v1/uploads/${id}`, as);
    expect(view.body).toMatchObject({ status: 'aborted', reason: 'upload_lost_in_storage' });
    expect(await reserved()).toBe(before);
    expect((await changes(id)).map((c) => [c.type, c.payload.reason])).toEqual([
      ['upload.created', undefined],
      ['upload.aborted', 'upload_lost_in_storage'],
    ]);
  });

  it('looking at an upload storage lost ends it too: aborted, not pending with 0 parts for a day', async () => {
    const before = await reserved();
    const id = await lostUpload();
    const view = await api.request('GET', `/v1/uploads/${id}`, as);
    expect(view).toMatchObject({ status: 200, body: { status: 'aborted', reason: 'upload_lost_in_storage' } });
    expect(await reserved()).toBe(before);
  });

  it('during a storage outage the status comes from the part ledger, marked storage unknown', async () => {
    const created = await api.request('POST', '/v1/uploads', { ...as, body: { filename: 'big.bin', size: 64 * MiB, contentType: 'application/octet-stream' } });
    await api.sql(`INSERT INTO file_parts (file_id, part_number, size, etag, updated_at) VALUES ($1, 1, $2, 'e1', now())`, [created.body.id, 16 * MiB]);
    // The same database, and a storage endpoint that answers every call 503 ServiceUnavailable.
    const outage = createServer((_, res) => res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>ServiceUnavailable</Code></Error>'));
    await new Promise<void>((resolve) => outage.listen(0, '127.0.0.1', resolve));
    const down = await startApi({ DATABASE_URL: api.db.url, S3_ENDPOINT: `http://127.0.0.1:${(outage.address() as AddressInfo).port}` });
    try {
      const view = await down.request('GET', `/v1/uploads/${created.body.id}`, as);
      expect(view).toMatchObject({ status: 200, body: { status: 'pending', partsFrom: 'ledger', storage: 'unknown', bytesUploaded: 16 * MiB } });
    } finally {
      await down.close();
      outage.close();
    }
    const up = await api.request('GET', `/v1/uploads/${created.body.id}`, as);
    expect(up.body).toMatchObject({ partsFrom: 'storage' });
    expect(up.body.storage).toBeUndefined();
  });
});
