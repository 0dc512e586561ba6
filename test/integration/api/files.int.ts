import { parse } from 'content-disposition';
import fc from 'fast-check';
import { FileRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { ApiHarness, createTenant, startApi } from './api-harness';

describe('upload-api: files and downloads (real Postgres, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let storage: ObjectStorage;
  const as = (owner: string) => ({ token: tenant.apiKey, headers: { 'x-owner-id': owner } });

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api);
    storage = new ObjectStorage(testPresigner(api.storage).s3, api.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await api.close();
  });

  /** Upload through the API, then confirm as chunk-tracker does when storage's event arrives. */
  async function storedFile(filename: string, body: string, contentType = 'text/plain', owner = 'alice'): Promise<string> {
    const init = await api.request('POST', '/v1/uploads', { ...as(owner), body: { filename, size: Buffer.byteLength(body), contentType } });
    expect(init.status).toBe(201);
    await fetch(init.body.upload.url, { method: 'PUT', headers: init.body.upload.headers, body });
    const lifecycle = api.app.get(FileLifecycle);
    await lifecycle.confirmUploaded((await api.app.get(FileRepository).find(init.body.id))!, null);
    return init.body.id as string;
  }
  const quota = async () =>
    (await api.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [tenant.id]))[0];

  it("lists the owner's files newest first, in pages, and only theirs", async () => {
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await storedFile(`f${n}.txt`, `file ${n}`));
    await storedFile('bobs.txt', 'bob', 'text/plain', 'bob');
    await api.request('POST', '/v1/uploads', { ...as('alice'), body: { filename: 'pending.txt', size: 3, contentType: 'text/plain' } });

    const first = await api.request('GET', '/v1/files?limit=2', as('alice'));
    expect(first.status).toBe(200);
    expect(first.body.items.map((f: { id: string }) => f.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api.request('GET', `/v1/files?limit=2&cursor=${first.body.nextCursor}`, as('alice'));
    expect(second.body.items.map((f: { id: string }) => f.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect(first.body.items[0]).toMatchObject({
      filename: 'f3.txt',
      size: 6,
      contentType: 'text/plain',
      status: 'uploaded',
      variants: [],
      detectedType: null,
      metadata: null,
    });

    expect((await api.request('GET', '/v1/files?cursor=garbage', as('alice'))).status).toBe(400);
    expect((await api.request('GET', '/v1/files?limit=1000', as('alice'))).status).toBe(400);
  });

  it("reads a file; uploads still in flight and other owners' files are not found", async () => {
    const id = await storedFile('read.txt', 'readable');
    expect((await api.request('GET', `/v1/files/${id}`, as('alice'))).body).toMatchObject({ id, filename: 'read.txt', size: 8 });
    expect((await api.request('GET', `/v1/files/${id}`, as('bob'))).status).toBe(404);
    const pending = await api.request('POST', '/v1/uploads', { ...as('alice'), body: { filename: 'p.txt', size: 1, contentType: 'text/plain' } });
    expect((await api.request('GET', `/v1/files/${pending.body.id}`, as('alice'))).status).toBe(404);
  });

  it('downloads through a 302 to a short-lived presigned GET, with a safe Content-Disposition for any name', async () => {
    const name = 'résumé \u202Egnp.exe ../x.txt';
    const id = await storedFile(name, 'the bytes');
    const res = await api.request('GET', `/v1/files/${id}/content`, as('alice'));
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const location = new URL(res.headers.location as string);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    const disposition = location.searchParams.get('response-content-disposition')!;
    expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''/);
    expect(parse(disposition).parameters.filename).toBe('résumé gnp.exe .._x.txt');
    expect(await (await fetch(location)).text()).toBe('the bytes');

    const inline = await api.request('GET', `/v1/files/${id}/content?disposition=inline`, as('alice'));
    expect(new URL(inline.headers.location as string).searchParams.get('response-content-disposition')).toMatch(/^inline/);
    const html = await storedFile('page.html', '<script>alert(1)</script>', 'text/html');
    const forced = await api.request('GET', `/v1/files/${html}/content?disposition=inline`, as('alice'));
    expect(new URL(forced.headers.location as string).searchParams.get('response-content-disposition')).toMatch(/^attachment/);

    expect((await api.request('GET', `/v1/files/${id}/content?variant=thumb`, as('alice'))).status).toBe(404);
    expect((await api.request('GET', `/v1/files/${id}/content?variant=../x`, as('alice'))).status).toBe(400);
    expect((await api.request('GET', `/v1/files/${id}/content`, as('bob'))).status).toBe(404);
  });

  it('property: no query string on the file routes answers 5xx', async () => {
    const id = await storedFile('prop.txt', 'p');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('cursor', 'limit', 'variant', 'disposition', 'other'), fc.string({ maxLength: 60 })), async (params) => {
        const qs = new URLSearchParams(params).toString();
        for (const path of [`/v1/files?${qs}`, `/v1/files/${id}/content?${qs}`]) {
          const res = await api.request('GET', path, as('alice'));
          expect(res.status).toBeLessThan(500);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('deletes a file: object removed, quota freed, change recorded; idempotent', async () => {
    const before = await quota();
    const id = await storedFile('gone.txt', '12345');
    expect(BigInt((await quota()).used_bytes) - BigInt(before.used_bytes)).toBe(5n);
    const [row] = await api.sql<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [id]);
    expect((await api.request('DELETE', `/v1/files/${id}`, as('bob'))).status).toBe(404);
    expect((await api.request('DELETE', `/v1/files/${id}`, as('alice'))).status).toBe(204);
    expect((await api.request('DELETE', `/v1/files/${id}`, as('alice'))).status).toBe(204);
    expect(await quota()).toEqual(before);
    expect(await storage.head(row.storage_key)).toBeNull();
    expect((await api.request('GET', `/v1/files/${id}`, as('alice'))).status).toBe(404);
    const changes = await api.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'file.uploaded', 'file.deleted']);
  });
});
