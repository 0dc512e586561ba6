import { FileRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { ADMIN_TOKEN, ApiHarness, createTenant, startApi } from './api-harness';

/** Tenant administration (issue #13): list, read, change, delete tenants; list, rotate, revoke their API keys. */
describe('upload-api: tenant administration (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let storage: ObjectStorage;
  const admin = (body?: unknown) => ({ token: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
  const as = (apiKey: string, ownerId = 'alice') => ({ token: apiKey, headers: { 'x-owner-id': ownerId } });
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    // A one-second key cache, so the window within which a revoked key still works is short to wait out.
    api = await startApi({ API_KEY_CACHE_SECONDS: '1' });
    storage = new ObjectStorage(testPresigner(api.storage).s3, api.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await api?.close();
  });

  const initiate = (apiKey: string, size: number, owner = 'alice', contentType = 'text/plain') =>
    api.request('POST', '/v1/uploads', { ...as(apiKey, owner), body: { filename: `f-${size}.txt`, size, contentType } });

  /** Upload through the API, then confirm as chunk-tracker does when storage's event arrives. */
  async function storedFile(apiKey: string, body: string, owner = 'alice'): Promise<{ id: string; key: string }> {
    const init = await initiate(apiKey, Buffer.byteLength(body), owner);
    expect(init.status).toBe(201);
    await fetch(init.body.upload.url, { method: 'PUT', headers: init.body.upload.headers, body });
    const file = (await api.app.get(FileRepository).find(init.body.id))!;
    await api.app.get(FileLifecycle).confirmUploaded(file, null);
    return { id: file.id, key: file.storageKey };
  }
  const allotments = async (tenantId: string) =>
    (await api.sql<{ sum: string | null }>('SELECT sum(allotment_bytes)::text AS sum FROM quota_usage WHERE tenant_id = $1', [tenantId]))[0].sum;

  it('lists tenants newest first in keyset pages, and answers only the admin token', async () => {
    const made = [];
    for (const name of ['one', 'two', 'three']) made.push(await createTenant(api, { name: `list-${name}` }));
    const first = await api.request('GET', '/v1/admin/tenants?limit=2', admin());
    expect(first.status).toBe(200);
    expect(first.body.items.map((t: { name: string }) => t.name)).toEqual(['list-three', 'list-two']);
    expect(first.body.items[0]).toEqual({
      id: made[2].id,
      name: 'list-three',
      quotaBytes: 1024 ** 4,
      maxFileBytes: 5 * 1024 ** 4,
      allowedTypes: [],
      dedupScope: 'owner',
      allowSvgRendering: false,
      scanUploads: true,
      scanTooLarge: 'skip',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      deletedAt: null,
    });
    expect(first.body.items[0]).not.toHaveProperty('apiKey');
    const second = await api.request('GET', `/v1/admin/tenants?limit=2&cursor=${first.body.nextCursor}`, admin());
    expect(second.body.items.map((t: { id: string }) => t.id)).toContain(made[0].id);
    const ids = [...first.body.items, ...second.body.items].map((t: { id: string }) => t.id);
    expect(new Set(ids).size).toBe(ids.length);

    expect((await api.request('GET', '/v1/admin/tenants?cursor=garbage', admin())).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/tenants?limit=0', admin())).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/tenants?other=1', admin())).status).toBe(400);
    expect((await api.request('GET', '/v1/admin/tenants')).status).toBe(401);
    expect((await api.request('GET', '/v1/admin/tenants', { token: made[0].apiKey })).status).toBe(403);
  });

  it('reads a tenant with its usage, counted as GET /v1/usage counts it; another id is a 404 problem', async () => {
    const tenant = await createTenant(api, { name: 'usage', quotaBytes: 10_000 });
    await storedFile(tenant.apiKey, '12345');
    expect((await initiate(tenant.apiKey, 100, 'bob')).status).toBe(201);
    const detail = await api.request('GET', `/v1/admin/tenants/${tenant.id}`, admin());
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: tenant.id, name: 'usage', quotaBytes: 10_000 });
    expect(detail.body.usage).toEqual({ usedBytes: 5, reservedBytes: 100, files: 2, availableBytes: 10_000 - 105 });
    const usage = await api.request('GET', '/v1/usage', as(tenant.apiKey));
    expect(usage.body.tenant).toEqual({ quotaBytes: 10_000, usedBytes: 5, reservedBytes: 100, files: 2 });

    const missing = await api.request('GET', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000', admin());
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body.code).toBe('not_found');
    expect((await api.request('GET', '/v1/admin/tenants/not-a-uuid', admin())).status).toBe(404);
  });

  it('changes settings, which the next initiation obeys; a strict body with at least one field', async () => {
    const tenant = await createTenant(api, { name: 'patch' });
    const patched = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ name: 'patched', maxFileBytes: 10, allowedTypes: ['IMAGE/*'] }));
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'patched', maxFileBytes: 10, allowedTypes: ['image/*'], dedupScope: 'owner' });
    expect((await initiate(tenant.apiKey, 11, 'alice', 'image/png')).body.code).toBe('file_too_large');
    expect((await initiate(tenant.apiKey, 5, 'alice', 'text/plain')).body.code).toBe('type_not_allowed');
    expect((await initiate(tenant.apiKey, 5, 'alice', 'image/png')).status).toBe(201);

    // The malware scan settings (issue #15): off, and files too large for the scanner refused.
    const scanning = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ scanUploads: false, scanTooLarge: 'reject' }));
    expect(scanning.body).toMatchObject({ scanUploads: false, scanTooLarge: 'reject', name: 'patched' });
    const [settings] = await api.sql<{ scan_uploads: boolean; scan_too_large: string }>(
      'SELECT scan_uploads, scan_too_large::text FROM tenants WHERE id = $1',
      [tenant.id],
    );
    expect(settings).toEqual({ scan_uploads: false, scan_too_large: 'reject' });

    for (const body of [
      {},
      { unknown: 1 },
      { name: '' },
      { quotaBytes: -1 },
      { dedupScope: 'world' },
      { allowedTypes: ['nope'] },
      { scanUploads: 'no' },
      { scanTooLarge: 'maybe' },
    ]) {
      const res = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin(body));
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
    }
    expect((await api.request('PATCH', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000', admin({ name: 'x' }))).status).toBe(404);
    const [row] = await api.sql<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [tenant.id]);
    expect(row.name).toBe('patched');
  });

  it('deals a new quota out to the stripes at once: raised admits now; below what is held a 409 changing nothing; exactly what is held stops uploads', async () => {
    const tenant = await createTenant(api, { name: 'quota', quotaBytes: 100 });
    const big = await storedFile(tenant.apiKey, 'x'.repeat(60));
    expect((await initiate(tenant.apiKey, 50)).body.code).toBe('quota_exceeded');

    const raised = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ quotaBytes: 200 }));
    expect(raised.body).toMatchObject({ quotaBytes: 200, usage: { usedBytes: 60, reservedBytes: 0, availableBytes: 140 } });
    expect(await allotments(tenant.id)).toBe('200');
    expect((await initiate(tenant.apiKey, 50)).status).toBe(201);

    const refused = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ quotaBytes: 80, name: 'renamed' }));
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'conflict', heldBytes: 110 });
    const unchanged = (await api.request('GET', `/v1/admin/tenants/${tenant.id}`, admin())).body;
    expect([unchanged.quotaBytes, unchanged.name]).toEqual([200, 'quota']);
    expect(await allotments(tenant.id)).toBe('200');

    // Exactly what it holds: accepted, and nothing more is admitted on any stripe.
    const full = await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ quotaBytes: 110 }));
    expect(full.body.usage).toMatchObject({ usedBytes: 60, reservedBytes: 50, availableBytes: 0 });
    expect(await allotments(tenant.id)).toBe('110');
    for (let i = 0; i < 5; i++) expect((await initiate(tenant.apiKey, 1)).body.code).toBe('quota_exceeded');

    // Freed bytes admit again, never beyond the quota.
    expect((await api.request('DELETE', `/v1/files/${big.id}`, as(tenant.apiKey))).status).toBe(204);
    expect((await initiate(tenant.apiKey, 60)).status).toBe(201);
    expect((await initiate(tenant.apiKey, 1)).body.code).toBe('quota_exceeded');
    const [books] = await api.sql<{ held: string; quota: string }>(
      'SELECT (used_bytes + reserved_bytes)::text AS held, quota_bytes::text AS quota FROM quota_totals WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(books).toEqual({ held: '110', quota: '110' });
  });

  it('lists keys by prefix, never a secret, with their last use', async () => {
    const tenant = await createTenant(api, { name: 'keys' });
    expect((await api.request('GET', '/v1/usage', as(tenant.apiKey))).status).toBe(200);
    // The use is recorded off the request's path: it shows within moments.
    let keys = await api.request('GET', `/v1/admin/tenants/${tenant.id}/keys`, admin());
    for (let i = 0; i < 20 && !keys.body.items[0].lastUsedAt; i++) {
      await wait(50);
      keys = await api.request('GET', `/v1/admin/tenants/${tenant.id}/keys`, admin());
    }
    expect(keys.status).toBe(200);
    expect(keys.body.items).toEqual([
      {
        id: expect.any(String),
        prefix: tenant.apiKey.slice(0, 12),
        name: 'default',
        createdAt: expect.any(String),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: expect.any(String),
        active: true,
      },
    ]);
    expect(JSON.stringify(keys.body)).not.toContain(tenant.apiKey.slice(12));
    expect(Date.parse(keys.body.items[0].lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect((await api.request('GET', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000/keys', admin())).status).toBe(404);
  });

  it('rotates: the new key works at once, the older ones until the grace ends (0: now, within the cache window), and a rotation never lengthens a grace', async () => {
    const tenant = await createTenant(api, { name: 'rotate' });
    const withGrace = await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin({ graceSeconds: 3600 }));
    expect(withGrace.status).toBe(201);
    expect(withGrace.body).toMatchObject({ apiKey: expect.stringMatching(/^upk_/), active: true, expiresAt: null, revokedAt: null });
    expect(withGrace.body.prefix).toBe(withGrace.body.apiKey.slice(0, 12));
    expect(Date.parse(withGrace.body.previousKeysExpireAt) - Date.now()).toBeGreaterThan(3590_000);
    expect((await api.request('GET', '/v1/usage', as(tenant.apiKey))).status).toBe(200);
    expect((await api.request('GET', '/v1/usage', as(withGrace.body.apiKey))).status).toBe(200);

    // No body: the default grace of a day; the first key keeps its earlier end (3600 s).
    const third = await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin());
    expect(third.status).toBe(201);
    const listed = (await api.request('GET', `/v1/admin/tenants/${tenant.id}/keys`, admin())).body.items as Array<{ prefix: string; expiresAt: string | null }>;
    const byPrefix = Object.fromEntries(listed.map((k) => [k.prefix, k.expiresAt]));
    expect(Date.parse(byPrefix[tenant.apiKey.slice(0, 12)]!) - Date.now()).toBeLessThan(3600_000);
    expect(Date.parse(byPrefix[withGrace.body.prefix]!) - Date.now()).toBeGreaterThan(86_000_000);
    expect(byPrefix[third.body.prefix]).toBeNull();

    // Grace 0: every older key stops now; where a process cached its lookup before the rotation,
    // once that lookup is older than API_KEY_CACHE_SECONDS (1 s here).
    const now = await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin({ graceSeconds: 0 }));
    await wait(1_100);
    for (const old of [tenant.apiKey, withGrace.body.apiKey, third.body.apiKey]) {
      expect((await api.request('GET', '/v1/usage', as(old))).status).toBe(401);
    }
    expect((await api.request('GET', '/v1/usage', as(now.body.apiKey))).status).toBe(200);

    for (const body of [{ graceSeconds: -1 }, { graceSeconds: 31 * 24 * 3600 }, { graceSeconds: 1.5 }, { other: true }]) {
      expect((await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin(body))).status).toBe(400);
    }
    expect((await api.request('POST', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000/keys', admin({}))).status).toBe(404);
  });

  it('revokes a key at once: refused once the cache window passed, listed as revoked; another key of the tenant keeps working', async () => {
    const tenant = await createTenant(api, { name: 'revoke' });
    const spare = (await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin({ graceSeconds: 3600 }))).body;
    const keys = (await api.request('GET', `/v1/admin/tenants/${tenant.id}/keys`, admin())).body.items as Array<{ id: string; prefix: string }>;
    const first = keys.find((k) => k.prefix === tenant.apiKey.slice(0, 12))!;
    const revoked = await api.request('DELETE', `/v1/admin/tenants/${tenant.id}/keys/${first.id}`, admin());
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: first.id, active: false, revokedAt: expect.any(String) });
    await wait(1_100);
    expect((await api.request('GET', '/v1/usage', as(tenant.apiKey))).status).toBe(401);
    expect((await api.request('GET', '/v1/usage', as(spare.apiKey))).status).toBe(200);
    expect((await api.request('DELETE', `/v1/admin/tenants/${tenant.id}/keys/${first.id}`, admin())).body.revokedAt).toBe(revoked.body.revokedAt);

    const other = await createTenant(api, { name: 'other' });
    expect((await api.request('DELETE', `/v1/admin/tenants/${other.id}/keys/${first.id}`, admin())).status).toBe(404);
    expect((await api.request('DELETE', `/v1/admin/tenants/${tenant.id}/keys/not-a-key`, admin())).status).toBe(404);
  });

  it('refuses to delete a tenant that holds files without force, changing nothing; deletes an empty one', async () => {
    const tenant = await createTenant(api, { name: 'keep' });
    await storedFile(tenant.apiKey, 'kept');
    const refused = await api.request('DELETE', `/v1/admin/tenants/${tenant.id}`, admin());
    expect([refused.status, refused.body.code, refused.body.files]).toEqual([409, 'conflict', 1]);
    expect((await api.request('GET', `/v1/admin/tenants/${tenant.id}`, admin())).body.deletedAt).toBeNull();
    expect((await api.request('GET', '/v1/usage', as(tenant.apiKey))).status).toBe(200);
    expect((await api.request('DELETE', `/v1/admin/tenants/${tenant.id}?force=yes`, admin())).status).toBe(400);

    const empty = await createTenant(api, { name: 'empty' });
    const deleted = await api.request('DELETE', `/v1/admin/tenants/${empty.id}`, admin());
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: empty.id, status: 'deleted', deletedAt: expect.any(String), remainingFiles: 0 });
    expect((await api.request('GET', `/v1/admin/tenants/${empty.id}`, admin())).status).toBe(404);
    expect((await api.request('DELETE', `/v1/admin/tenants/${empty.id}`, admin())).status).toBe(404);
  });

  it('force-deletes a tenant: its credentials stop, its uploads are aborted and files deleted with their objects, then the tenant and its rows go', async () => {
    const tenant = await createTenant(api, { name: 'doomed' });
    const other = await createTenant(api, { name: 'bystander' });
    const stored = [await storedFile(tenant.apiKey, 'one'), await storedFile(tenant.apiKey, 'two', 'bob')];
    const pending = await initiate(tenant.apiKey, 10);
    const theirs = await storedFile(other.apiKey, 'not theirs');
    const { token } = (await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'alice' } })).body;
    expect((await api.request('GET', '/v1/files', { token })).status).toBe(200);
    const [{ count: changesBefore }] = await api.sql<{ count: string }>('SELECT count(*)::text AS count FROM change_events WHERE tenant_id = $1', [tenant.id]);
    expect(Number(changesBefore)).toBeGreaterThan(0);

    const deleted = await api.request('DELETE', `/v1/admin/tenants/${tenant.id}?force=true`, admin());
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'deleted', remainingFiles: 0 });

    for (const file of stored) expect(await storage.head(file.key)).toBeNull();
    await wait(1_100);
    expect((await api.request('GET', '/v1/usage', as(tenant.apiKey))).status).toBe(401);
    expect((await api.request('GET', '/v1/files', { token })).status).toBe(401);
    expect((await api.request('GET', `/v1/uploads/${pending.body.id}`, as(tenant.apiKey))).status).toBe(401);
    expect((await api.request('GET', `/v1/admin/tenants/${tenant.id}`, admin())).status).toBe(404);
    const left = await api.sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM files WHERE tenant_id = $1) + (SELECT count(*) FROM api_keys WHERE tenant_id = $1)
            + (SELECT count(*) FROM quota_usage WHERE tenant_id = $1) + (SELECT count(*) FROM change_events WHERE tenant_id = $1)
            + (SELECT count(*) FROM owner_sequences WHERE tenant_id = $1) AS n`,
      [tenant.id],
    );
    expect(Number(left[0].n)).toBe(0);

    // Another tenant is untouched.
    expect(await storage.head(theirs.key)).not.toBeNull();
    expect((await api.request('GET', `/v1/files/${theirs.id}`, as(other.apiKey))).status).toBe(200);
  });

  it('a tenant being deleted (its files still going) is refused new keys and changes, and its next DELETE finishes without force', async () => {
    const tenant = await createTenant(api, { name: 'halfway' });
    await storedFile(tenant.apiKey, 'left');
    // As a DELETE cut short leaves it: marked, files not yet removed.
    await api.sql('UPDATE tenants SET deleted_at = now() WHERE id = $1', [tenant.id]);
    const read = await api.request('GET', `/v1/admin/tenants/${tenant.id}`, admin());
    expect(read.body).toMatchObject({ deletedAt: expect.any(String), usage: { files: 1 } });
    const listed = (await api.request('GET', '/v1/admin/tenants?limit=100', admin())).body.items.find((t: { id: string }) => t.id === tenant.id);
    expect(listed.deletedAt).toEqual(expect.any(String));
    expect((await api.request('PATCH', `/v1/admin/tenants/${tenant.id}`, admin({ name: 'again' }))).body.code).toBe('invalid_state');
    expect((await api.request('POST', `/v1/admin/tenants/${tenant.id}/keys`, admin({}))).body.code).toBe('invalid_state');
    // A key still cached somewhere cannot start an upload: the tenant no longer exists for initiations.
    expect((await initiate(tenant.apiKey, 1)).status).toBe(401);
    const finished = await api.request('DELETE', `/v1/admin/tenants/${tenant.id}`, admin());
    expect([finished.status, finished.body.status]).toEqual([200, 'deleted']);
  });

  it('documents every tenant admin route with the schema of its answer', async () => {
    const doc = (await api.request('GET', '/docs/openapi.json')).body;
    const answers = [
      ['/v1/admin/tenants', 'get', '200'],
      ['/v1/admin/tenants/{id}', 'get', '200'],
      ['/v1/admin/tenants/{id}', 'patch', '200'],
      ['/v1/admin/tenants/{id}', 'delete', '200'],
      ['/v1/admin/tenants/{id}', 'delete', '202'],
      ['/v1/admin/tenants/{tenantId}/keys', 'get', '200'],
      ['/v1/admin/tenants/{tenantId}/keys', 'post', '201'],
      ['/v1/admin/tenants/{tenantId}/keys/{keyId}', 'delete', '200'],
    ];
    for (const [path, method, status] of answers) {
      expect([path, method, status, doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema]).toEqual([
        path,
        method,
        status,
        expect.anything(),
      ]);
    }
    expect(JSON.stringify(doc.components.schemas)).toContain('graceSeconds');
  });
});
