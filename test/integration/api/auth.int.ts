import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { ADMIN_TOKEN, ApiHarness, createTenant, startApi } from './api-harness';

describe('upload-api: tenants, keys and tokens (real Postgres)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  const countTenants = async () => Number((await api.sql<{ n: string }>('SELECT count(*) AS n FROM tenants'))[0].n);

  it('creates a tenant with its first API key, shown once and stored only as a hash', async () => {
    const res = await api.request('POST', '/v1/admin/tenants', {
      token: ADMIN_TOKEN,
      body: { name: 'photos team', quotaBytes: 10 * 1024 ** 3, maxFileBytes: 1024 ** 3, allowedTypes: ['image/*', 'Video/MP4'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'photos team',
      quotaBytes: 10 * 1024 ** 3,
      maxFileBytes: 1024 ** 3,
      allowedTypes: ['image/*', 'video/mp4'],
      dedupScope: 'owner',
    });
    expect(res.body.apiKey).toMatch(/^upk_[A-Za-z0-9_-]{43}$/);
    const keys = await api.sql<{ key_hash: string; prefix: string }>('SELECT key_hash, prefix FROM api_keys WHERE tenant_id = $1', [res.body.id]);
    expect(keys).toHaveLength(1);
    expect(keys[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    // The key appears nowhere in the database in clear.
    const dump = JSON.stringify(await api.sql('SELECT * FROM api_keys')) + JSON.stringify(await api.sql('SELECT * FROM tenants'));
    expect(dump).not.toContain(res.body.apiKey);
    expect(dump).not.toContain(res.body.apiKey.slice(12));
    const [quota] = await api.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [
      res.body.id,
    ]);
    expect(quota).toEqual({ used_bytes: '0', reserved_bytes: '0' });
  });

  it('answers 401 without or with a bad credential, 403 with a credential of the wrong kind', async () => {
    const { apiKey } = await createTenant(api);
    expect((await api.request('POST', '/v1/admin/tenants', { body: { name: 'x' } })).status).toBe(401);
    expect((await api.request('POST', '/v1/admin/tenants', { token: 'nope', body: { name: 'x' } })).status).toBe(401);
    expect((await api.request('POST', '/v1/admin/tenants', { token: `${apiKey}x`, body: { name: 'x' } })).status).toBe(401);
    const wrongKind = await api.request('POST', '/v1/admin/tenants', { token: apiKey, body: { name: 'x' } });
    expect(wrongKind.status).toBe(403);
    expect(wrongKind.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(wrongKind.body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await api.request('POST', '/v1/tokens', { token: ADMIN_TOKEN, body: { ownerId: 'a' } })).status).toBe(403);
  });

  it('rejects bad bodies with a problem listing each bad field, and writes nothing', async () => {
    const before = await countTenants();
    const res = await api.request('POST', '/v1/admin/tenants', {
      token: ADMIN_TOKEN,
      body: { name: '', quotaBytes: -1, allowedTypes: ['nonsense'], extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, code: 'validation_failed', type: expect.stringContaining('validation-failed') });
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['name', 'quotaBytes', 'allowedTypes.0']));
    expect(
      (await api.request('POST', '/v1/admin/tenants', { token: ADMIN_TOKEN, rawBody: '{"name":', headers: { 'content-type': 'application/json' } })).status,
    ).toBe(400);
    expect((await api.request('POST', '/v1/admin/tenants', { token: ADMIN_TOKEN, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } })).status).toBe(
      415,
    );
    expect(await countTenants()).toBe(before);
  });

  it('property: no body makes the tenant route answer 5xx, and a rejected body writes no row', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ name: fc.string(), quotaBytes: fc.oneof(fc.integer(), fc.double(), fc.string()), allowedTypes: fc.anything() }, { requiredKeys: [] }),
        ),
        async (body) => {
          const before = await countTenants();
          const res = await api.request('POST', '/v1/admin/tenants', { token: ADMIN_TOKEN, body });
          expect(res.status).toBeLessThan(500);
          if (res.status !== 201) {
            expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
            expect(await countTenants()).toBe(before);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('user tokens', () => {
    let tenant: { id: string; apiKey: string };
    beforeAll(async () => {
      tenant = await createTenant(api);
    });

    it('an API key mints a token for an owner named in the header or the body', async () => {
      const viaHeader = await api.request('POST', '/v1/tokens', { token: tenant.apiKey, headers: { 'x-owner-id': 'alice' }, body: {} });
      expect(viaHeader.status).toBe(201);
      expect(viaHeader.body.ownerId).toBe('alice');
      const claims = jwt.decode(viaHeader.body.token) as { sub: string; tid: string; exp: number };
      expect(claims).toMatchObject({ sub: 'alice', tid: tenant.id });
      expect(new Date(viaHeader.body.expiresAt).getTime()).toBe(claims.exp * 1000);
      const viaBody = await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'bob', ttlSeconds: 120 } });
      expect(viaBody.status).toBe(201);
      expect(new Date(viaBody.body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(120_000);
    });

    it('refuses conflicting or missing owners and out-of-range lifetimes', async () => {
      expect((await api.request('POST', '/v1/tokens', { token: tenant.apiKey, headers: { 'x-owner-id': 'alice' }, body: { ownerId: 'bob' } })).status).toBe(
        400,
      );
      expect((await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: {} })).body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'ownerId' }],
      });
      expect((await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'a', ttlSeconds: 10 } })).status).toBe(400);
      expect((await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'a/../b' } })).status).toBe(400);
    });

    it('property: no token body or owner header answers 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything(), fc.option(fc.string({ maxLength: 300 }), { nil: undefined }), async (body, owner) => {
          const headers: Record<string, string> = {};
          // Header values must be byte strings; the property covers what clients can send.
          if (owner !== undefined && /^[\x20-\x7e]*$/.test(owner)) headers['x-owner-id'] = owner;
          const res = await api.request('POST', '/v1/tokens', { token: tenant.apiKey, headers, body });
          expect(res.status).toBeLessThan(500);
          if (res.status !== 201) expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        }),
        { numRuns: 150 },
      );
    });

    it('a user token cannot mint tokens; expired or tampered tokens are refused', async () => {
      const { token } = (await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'carol' } })).body as { token: string };
      expect((await api.request('POST', '/v1/tokens', { token, body: { ownerId: 'carol' } })).status).toBe(403);
      const [head, payload, signature] = token.split('.');
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })).toString('base64url');
      expect((await api.request('POST', '/v1/tokens', { token: `${head}.${forged}.${signature}`, body: {} })).status).toBe(401);
      const expired = jwt.sign({ sub: 'carol', tid: tenant.id, exp: Math.floor(Date.now() / 1000) - 10 }, 'integration-token-signing-secret-0123456789', {
        audience: 'upload-platform:user',
      });
      expect((await api.request('POST', '/v1/tokens', { token: expired, body: {} })).status).toBe(401);
    });
  });

  it('documents the routes in the OpenAPI document from the same schemas', async () => {
    const doc = (await api.request('GET', '/docs/openapi.json')).body;
    // Every route of the contract (api-v1.md) served by upload-api.
    expect(Object.keys(doc.paths).sort()).toEqual(
      expect.arrayContaining([
        '/v1/admin/tenants',
        '/v1/tokens',
        '/v1/uploads',
        '/v1/uploads/{id}',
        '/v1/uploads/{id}/parts',
        '/v1/uploads/{id}/parts/{n}',
        '/v1/uploads/{id}/complete',
        '/v1/files',
        '/v1/files/{id}',
        '/v1/files/{id}/content',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/uploads/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
    const schemas = JSON.stringify(doc.components.schemas);
    expect(schemas).toContain('allowedTypes');
    expect(schemas).toContain('ttlSeconds');
  });
});
