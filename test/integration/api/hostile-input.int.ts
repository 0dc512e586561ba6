import fc from 'fast-check';
import { hostileJson, hostileJsonText, hostileString } from '@app/testing';
import { ADMIN_TOKEN, ApiHarness, createTenant, startApi } from './api-harness';

/**
 * Issue #11, findings 5 and 6: input that reached a 500 or a non-problem answer, and the property
 * behind them: whatever JSON a body holds and whatever string a path id, cursor or query value
 * is, upload-api answers below 500, every 4xx is a problem document, and a refusal writes nothing.
 */
describe('hostile input (upload-api)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let uploadId: string;
  const owner = () => ({ token: tenant.apiKey, headers: { 'x-owner-id': 'mallory' } });

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, { quotaBytes: 1024 ** 4 });
    const created = await api.request('POST', '/v1/uploads', {
      ...owner(),
      body: { filename: 'big.bin', size: 64 * 1024 ** 2, contentType: 'application/octet-stream' },
    });
    uploadId = created.body.id;
  });
  afterAll(async () => {
    await api?.close();
  });

  /** Rows of every table a request could write, as one comparable text. */
  const rows = async () =>
    JSON.stringify(
      await api.sql(
        `SELECT (SELECT count(*) FROM tenants) AS tenants, (SELECT count(*) FROM api_keys) AS keys, (SELECT count(*) FROM files) AS files,
                (SELECT count(*) FROM file_parts) AS parts, (SELECT count(*) FROM change_events) AS changes,
                (SELECT count(*) FROM webhook_deliveries) AS deliveries, (SELECT max(updated_at) FROM files) AS touched,
                (SELECT sum(reserved_bytes + used_bytes) FROM quota_usage) AS quota`,
      ),
    );

  const expectRefusal = (res: { status: number; headers: Record<string, unknown>; body: any }) => {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: res.status, code: expect.any(String) });
  };

  /** Below 500; a refusal is a problem document and leaves every table as `before` had them. */
  const expectSafe = async (res: { status: number; headers: Record<string, unknown>; body: any }, before: string) => {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expectRefusal(res);
      expect(await rows()).toBe(before);
    }
  };

  it('refuses a lone surrogate anywhere in a body, and metadata nested 500 levels deep, as 400 problems', async () => {
    const before = await rows();
    const nested = JSON.parse('{"a":'.repeat(500) + '1' + '}'.repeat(500));
    for (const body of [
      { filename: '\ud800', size: 1, contentType: 'text/plain' },
      { filename: 'ok.txt', size: 1, contentType: 'text/plain', metadata: { note: 'x\udc00y' } },
      { filename: 'ok.txt', size: 1, contentType: 'text/plain', metadata: { ['\ud83d']: 1 } },
      { filename: 'ok.txt', size: 1, contentType: 'text/plain', metadata: nested },
    ]) {
      const res = await api.request('POST', '/v1/uploads', { ...owner(), body });
      expectRefusal(res);
      expect(res.status).toBe(400);
    }
    expect(await rows()).toBe(before);
  });

  it('refuses cursors it did not issue as 400 problems', async () => {
    const cursors = [
      '2020-01-01T00:00:00Z|------------------------------------',
      `2020-01-01|${'0'.repeat(36)}`,
      '-200000-01-01T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01',
      '+275760-09-13T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01',
    ].map((text) => Buffer.from(text).toString('base64url'));
    for (const cursor of cursors) {
      const res = await api.request('GET', `/v1/files?cursor=${cursor}`, owner());
      expectRefusal(res);
      expect(res.body.code).toBe('validation_failed');
    }
  });

  it('answers an over-long id on every route with an id as a problem document', async () => {
    const id = 'a'.repeat(5_000);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/v1/uploads/${id}`],
      ['DELETE', `/v1/uploads/${id}`],
      ['POST', `/v1/uploads/${id}/parts`, { partNumbers: [1] }],
      ['PUT', `/v1/uploads/${id}/parts/1`, { etag: '"x"', size: 1 }],
      ['PUT', `/v1/uploads/${uploadId}/parts/${id}`, { etag: '"x"', size: 1 }],
      ['POST', `/v1/uploads/${id}/complete`, {}],
      ['GET', `/v1/files/${id}`],
      ['GET', `/v1/files/${id}/content`],
      ['DELETE', `/v1/files/${id}`],
      ['POST', `/v1/admin/jobs/media-verify/${id}/retry`],
      ['POST', `/v1/admin/jobs/${id}/1/retry`],
    ];
    for (const [method, path, body] of routes) {
      const res = await api.request(method, path, { ...(path.includes('/admin/') ? { token: ADMIN_TOKEN } : owner()), body });
      expectRefusal(res);
    }
  });

  it('aborts an upload sent as browsers send it (Content-Type: application/json, no body), and twice at once', async () => {
    const created = await api.request('POST', '/v1/uploads', { ...owner(), body: { filename: 'a.bin', size: 10, contentType: 'application/octet-stream' } });
    const headers = { 'x-owner-id': 'mallory', 'content-type': 'application/json' };
    const [first, second] = await Promise.all([
      api.request('DELETE', `/v1/uploads/${created.body.id}`, { token: tenant.apiKey, headers }),
      api.request('DELETE', `/v1/uploads/${created.body.id}`, { token: tenant.apiKey, headers }),
    ]);
    expect([first.status, second.status]).toEqual([204, 204]);
    expect((await api.request('GET', `/v1/uploads/${created.body.id}`, owner())).body.status).toBe('aborted');
    const changes = await api.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [created.body.id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'upload.aborted']);
  });

  // Initiations shaped well enough to reach the database, with any strings in them.
  const anyString = hostileString();
  const nearlyValidUpload = fc.record(
    {
      filename: fc.oneof(anyString, fc.constant('ok.txt')),
      size: fc.oneof(fc.integer({ min: 0, max: 2 ** 30 }), fc.double()),
      contentType: fc.oneof(fc.constant('text/plain'), anyString),
      metadata: fc.dictionary(anyString, hostileJson(), { maxKeys: 3 }),
    },
    { requiredKeys: ['filename', 'size', 'contentType'] },
  );

  it('property: any JSON body on every route with a body answers below 500, refusals as problems that write nothing', async () => {
    const routes: Array<{ method: string; path: () => string; as: () => { token: string; headers?: Record<string, string> } }> = [
      { method: 'POST', path: () => '/v1/uploads', as: owner },
      { method: 'POST', path: () => `/v1/uploads/${uploadId}/parts`, as: owner },
      { method: 'PUT', path: () => `/v1/uploads/${uploadId}/parts/1`, as: owner },
      { method: 'POST', path: () => `/v1/uploads/${uploadId}/complete`, as: owner },
      { method: 'POST', path: () => '/v1/tokens', as: () => ({ token: tenant.apiKey }) },
      { method: 'POST', path: () => '/v1/admin/tenants', as: () => ({ token: ADMIN_TOKEN }) },
      { method: 'POST', path: () => '/v1/admin/reprocess', as: () => ({ token: ADMIN_TOKEN }) },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), hostileJsonText, async (route, rawBody) => {
        const before = await rows();
        const { token, headers } = route.as();
        await expectSafe(
          await api.request(route.method, route.path(), { token, headers: { ...headers, 'content-type': 'application/json' }, rawBody }),
          before,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('property: initiations with any strings in them answer below 500, refusals as problems that write nothing', async () => {
    await fc.assert(
      fc.asyncProperty(nearlyValidUpload, async (body) => {
        const before = await rows();
        await expectSafe(await api.request('POST', '/v1/uploads', { ...owner(), body }), before);
      }),
      { numRuns: 200 },
    );
  });

  it('property: any string as a path id, cursor or query value answers below 500, refusals as problems', async () => {
    const anyPathValue = fc.oneof(hostileString(60), hostileString(6_000, 300));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          (s: string) => ['GET', `/v1/uploads/${s}`],
          (s: string) => ['DELETE', `/v1/uploads/${s}`],
          (s: string) => ['GET', `/v1/files/${s}`],
          (s: string) => ['GET', `/v1/files/${s}/content`],
          (s: string) => ['DELETE', `/v1/files/${s}`],
          (s: string) => ['GET', `/v1/files?cursor=${s}`],
          (s: string) => ['GET', `/v1/files?limit=${s}`],
          (s: string) => ['GET', `/v1/uploads/${uploadId}?parts=${s}`],
          (s: string) => ['GET', `/v1/files/${uploadId}/content?variant=${s}`],
          (s: string) => ['PUT', `/v1/uploads/${uploadId}/parts/${s}`],
        ),
        anyPathValue,
        fc.boolean(),
        async (route, value, encode) => {
          const [method, path] = route(encode ? encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '')) : value.replace(/[/?#\s]/g, 'x'));
          const res = await api.request(method, path, { ...owner(), body: method === 'PUT' ? { etag: '"e"', size: 1 } : undefined });
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectRefusal(res);
        },
      ),
      { numRuns: 300 },
    );
  });
});
