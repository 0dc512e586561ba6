import fc from 'fast-check';
import { FileRepository, PrismaService } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ApiHarness, createTenant, startApi } from './api-harness';

/** `GET /v1/files` filters (issue #13): status, contentType, filename, createdAfter/createdBefore, with keyset paging. */
describe('upload-api: file list filters (real Postgres, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  const as = (owner = 'alice') => ({ token: tenant.apiKey, headers: { 'x-owner-id': owner } });
  const ids: Record<string, string> = {};
  const list = (query: string, owner = 'alice') => api.request('GET', `/v1/files?${query}`, as(owner));
  const names = (res: { body: { items: Array<{ filename: string }> } }) => res.body.items.map((f) => f.filename);

  /** A file stored through the API (then moved on to `status` as processing would), created at `createdAt`. */
  async function storedFile(filename: string, contentType: string, createdAt: string, status: 'uploaded' | 'ready' | 'failed' = 'uploaded'): Promise<string> {
    const init = await api.request('POST', '/v1/uploads', { ...as(), body: { filename, size: 4, contentType } });
    expect(init.status).toBe(201);
    await fetch(init.body.upload.url, { method: 'PUT', headers: init.body.upload.headers, body: 'abcd' });
    const lifecycle = api.app.get(FileLifecycle);
    const file = (await lifecycle.confirmUploaded((await api.app.get(FileRepository).find(init.body.id))!, null))!;
    if (status !== 'uploaded') await lifecycle.startProcessing(file.id);
    if (status === 'ready') await lifecycle.markReady(file.id, {}, {});
    if (status === 'failed') await lifecycle.fail(file, 'timeout');
    await api.sql('UPDATE files SET created_at = $2 WHERE id = $1', [file.id, createdAt]);
    ids[filename] = file.id;
    return file.id;
  }

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api);
    // Newest first: the order every answer below lists them in.
    await storedFile('Report-2026.pdf', 'application/pdf', '2026-06-01T00:00:00.000Z', 'ready');
    await storedFile('report-draft.txt', 'text/plain', '2026-05-01T00:00:00.000Z', 'failed');
    await storedFile('photo.png', 'image/png', '2026-04-01T00:00:00.000Z', 'ready');
    await storedFile('a_b.jpg', 'image/jpeg', '2026-03-01T00:00:00.000Z');
    await storedFile('axb.jpg', 'image/jpeg', '2026-02-01T00:00:00.000Z', 'ready');
    await storedFile('ÉTÉ.txt', 'text/plain', '2026-01-01T00:00:00.000Z', 'ready');
    // Not listed whatever the filter: an upload in flight, and another owner's file.
    await api.request('POST', '/v1/uploads', { ...as(), body: { filename: 'photo-pending.png', size: 4, contentType: 'image/png' } });
    await api.request('POST', '/v1/uploads', { ...as('bob'), body: { filename: 'photo-bob.png', size: 4, contentType: 'image/png' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('filters by status: one, or a comma list, of the stored statuses', async () => {
    expect(names(await list('status=ready'))).toEqual(['Report-2026.pdf', 'photo.png', 'axb.jpg', 'ÉTÉ.txt']);
    expect(names(await list('status=failed,uploaded'))).toEqual(['report-draft.txt', 'a_b.jpg']);
    expect((await list('status=ready')).body.items.every((f: { status: string }) => f.status === 'ready')).toBe(true);
  });

  it('answers a status outside the list, or no status at all, with a 400 problem naming the field', async () => {
    for (const query of ['status=pending', 'status=ready,deleted', 'status=bogus', 'status=', 'status=ready,,failed', 'status=READY']) {
      const res = await list(query);
      expect([query, res.status, res.body.code]).toEqual([query, 400, 'validation_failed']);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('status');
    }
  });

  it('filters by content type: exact, or a whole type by prefix (image/ or image/*), case-insensitive', async () => {
    expect(names(await list('contentType=image/jpeg'))).toEqual(['a_b.jpg', 'axb.jpg']);
    expect(names(await list('contentType=IMAGE/JPEG'))).toEqual(['a_b.jpg', 'axb.jpg']);
    expect(names(await list('contentType=image/'))).toEqual(['photo.png', 'a_b.jpg', 'axb.jpg']);
    expect(names(await list(`contentType=${encodeURIComponent('image/*')}`))).toEqual(['photo.png', 'a_b.jpg', 'axb.jpg']);
    expect(names(await list('contentType=image/jp'))).toEqual([]);
    for (const bad of ['image', '/png', 'image/png/x', '*/*', 'im age/png']) {
      expect((await list(`contentType=${encodeURIComponent(bad)}`)).status).toBe(400);
    }
  });

  it('filters by filename prefix, case-insensitive, with no wildcard in it', async () => {
    expect(names(await list('filename=report'))).toEqual(['Report-2026.pdf', 'report-draft.txt']);
    expect(names(await list('filename=REPORT-D'))).toEqual(['report-draft.txt']);
    expect(names(await list('filename=a_'))).toEqual(['a_b.jpg']);
    expect(names(await list(`filename=${encodeURIComponent('%')}`))).toEqual([]);
    expect(names(await list(`filename=${encodeURIComponent('été')}`))).toEqual(['ÉTÉ.txt']);
    expect(names(await list('filename=.pdf'))).toEqual([]);
    for (const bad of ['', '%00', encodeURIComponent('a\u0007'), 'x'.repeat(256)]) {
      expect((await list(`filename=${bad}`)).status).toBe(400);
    }
  });

  it('filters by creation time: createdAfter inclusive, createdBefore exclusive, offsets understood', async () => {
    expect(names(await list('createdAfter=2026-04-01T00:00:00Z'))).toEqual(['Report-2026.pdf', 'report-draft.txt', 'photo.png']);
    expect(names(await list('createdBefore=2026-04-01T00:00:00Z'))).toEqual(['a_b.jpg', 'axb.jpg', 'ÉTÉ.txt']);
    expect(names(await list('createdAfter=2026-02-01T00:00:00Z&createdBefore=2026-05-01T00:00:00Z'))).toEqual(['photo.png', 'a_b.jpg', 'axb.jpg']);
    expect(names(await list(`createdAfter=${encodeURIComponent('2026-04-01T02:00:00+02:00')}&createdBefore=2026-04-01T00:00:00.001Z`))).toEqual(['photo.png']);
    expect(names(await list('createdAfter=0001-01-01T00:00:00Z&createdBefore=9999-12-31T23:59:59Z'))).toHaveLength(6);
    expect(names(await list('createdBefore=1900-01-01T00:00:00Z'))).toEqual([]);
    for (const bad of [
      'createdAfter=yesterday',
      'createdAfter=2026-02-30T00:00:00Z',
      'createdBefore=2026-01-01',
      'createdAfter=2026-05-01T00:00:00Z&createdBefore=2026-04-01T00:00:00Z',
    ]) {
      const res = await list(bad);
      expect([bad, res.status, res.body.code]).toEqual([bad, 400, 'validation_failed']);
    }
  });

  it('applies every filter together', async () => {
    expect(names(await list('status=ready&contentType=image/&filename=ax&createdBefore=2026-03-01T00:00:00Z'))).toEqual(['axb.jpg']);
    expect(names(await list('status=failed&contentType=image/'))).toEqual([]);
  });

  it('pages through a filtered list with its cursor, which is refused with other filters or none', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: Array<{ filename: string }>; nextCursor: string | null } } = await list(
        `contentType=image/&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...names(res));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['photo.png', 'a_b.jpg', 'axb.jpg']);

    const filtered = (await list('contentType=image/&limit=1')).body.nextCursor as string;
    const plain = (await list('limit=1')).body.nextCursor as string;
    // The unfiltered cursor is the one the list always issued (no filter digest).
    expect(plain).not.toContain('.');
    for (const query of [
      `cursor=${filtered}`,
      `cursor=${filtered}&contentType=image/png`,
      `cursor=${plain}&contentType=image/`,
      `cursor=${filtered}x&contentType=image/`,
    ]) {
      const res = await list(query);
      expect([query, res.status, res.body.code]).toEqual([query, 400, 'validation_failed']);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('cursor');
    }
    // Equal filters spelled differently are the same filters.
    expect((await list(`cursor=${filtered}&contentType=${encodeURIComponent('IMAGE/*')}`)).status).toBe(200);
    expect(names(await list(`cursor=${plain}`))).toEqual(['report-draft.txt', 'photo.png', 'a_b.jpg', 'axb.jpg', 'ÉTÉ.txt']);
  });

  it('property: no filter query answers 5xx', async () => {
    const key = fc.constantFrom('status', 'contentType', 'filename', 'createdAfter', 'createdBefore', 'cursor', 'limit');
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('ready', 'image/', '2026-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-12:00', '\u0000', '%', '\\', "'"),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value), async (params) => {
        const res = await list(new URLSearchParams(params).toString());
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps the default list on the owner's index in its order (no sort); filters read only the owner's rows", async () => {
    // One owner's many files among many more of other owners, as the bench's table holds them.
    await api.sql(
      `INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, storage_key, mode, status, expires_at, updated_at, created_at)
       SELECT gen_random_uuid(), $1, CASE WHEN n <= 20000 THEN 'planner' ELSE 'other-' || (n % 500) END, 'f' || n || '.bin',
              CASE WHEN n % 10 = 0 THEN 'image/png' ELSE 'application/octet-stream' END, 1, 'bench/' || n, 'single', 'ready', now(), now(),
              now() - n * interval '1 second'
       FROM generate_series(1, 100000) AS n`,
      [tenant.id],
    );
    await api.sql('ANALYZE files');
    const prisma = api.app.get(PrismaService);
    const direct = jest.spyOn(prisma, 'direct');
    const plan = async (query: string) => {
      direct.mockClear();
      const res = await list(query, 'planner');
      expect(res.status).toBe(200);
      const [sql] = direct.mock.calls[0] as unknown as [{ text: string; values: unknown[] }];
      return (await api.sql<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql.text}`, sql.values)).map((r) => r['QUERY PLAN']).join('\n');
    };
    const cursor = (await list('limit=50', 'planner')).body.nextCursor as string;
    try {
      // The default path, first page and a later one: the index walked in its own order, nothing sorted.
      for (const query of ['limit=50', `limit=50&cursor=${cursor}`]) {
        const text = await plan(query);
        expect([query, text]).toEqual([query, expect.stringContaining('Index Scan using files_tenant_id_owner_id_created_at_id_idx')]);
        expect([query, text]).toEqual([query, expect.not.stringContaining('Sort')]);
      }
      // Filtered: still the owner's range of that index (the planner may sort the few rows it expects).
      for (const query of ['limit=50&contentType=image/&filename=f1', 'limit=50&status=ready&createdBefore=2026-01-01T00:00:00Z']) {
        const text = await plan(query);
        expect([query, text]).toEqual([query, expect.stringContaining('files_tenant_id_owner_id_created_at_id_idx')]);
        expect([query, text]).toEqual([query, expect.not.stringContaining('Seq Scan')]);
      }
    } finally {
      direct.mockRestore();
    }
  });

  it('documents the filters and the answer in the OpenAPI document', async () => {
    const doc = (await api.request('GET', '/docs/openapi.json')).body;
    const parameters = (doc.paths['/v1/files'].get.parameters as Array<{ name: string }>).map((p) => p.name);
    expect(parameters).toEqual(expect.arrayContaining(['cursor', 'limit', 'status', 'contentType', 'filename', 'createdAfter', 'createdBefore']));
    expect(doc.paths['/v1/files'].get.responses['200'].content['application/json'].schema).toBeDefined();
  });
});
