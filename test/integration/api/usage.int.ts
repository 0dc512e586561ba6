import { ApiHarness, createTenant, startApi } from './api-harness';

/** `GET /v1/usage`: what an owner and its tenant hold against the quota (issue #13). */
describe('upload-api: usage (real Postgres, Redis, moto)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  const as = (ownerId: string) => ({ token: tenant.apiKey, headers: { 'x-owner-id': ownerId } });

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, { quotaBytes: 10_000 });
  });
  afterAll(async () => {
    await api?.close();
  });

  const initiate = async (ownerId: string, size: number) =>
    (await api.request('POST', '/v1/uploads', { ...as(ownerId), body: { filename: `f-${size}.bin`, size, contentType: 'application/octet-stream' } })).body
      .id as string;

  it("answers an owner's reserved and used bytes, and with the API key the tenant's against its quota, agreeing with the quota books", async () => {
    const first = await initiate('alice', 100);
    await initiate('alice', 200);
    await initiate('bob', 50);
    expect((await api.request('DELETE', `/v1/uploads/${first}`, as('alice'))).status).toBe(204);

    const usage = await api.request('GET', '/v1/usage', as('alice'));
    expect(usage).toMatchObject({
      status: 200,
      body: {
        owner: { ownerId: 'alice', usedBytes: 0, reservedBytes: 200, files: 1 },
        tenant: { quotaBytes: 10_000, usedBytes: 0, reservedBytes: 250, files: 2 },
      },
    });
    const [books] = await api.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [
      tenant.id,
    ]);
    expect([Number(books.used_bytes), Number(books.reserved_bytes)]).toEqual([usage.body.tenant.usedBytes, usage.body.tenant.reservedBytes]);
  });

  it("tells a user's token only its own owner's usage, never the tenant's", async () => {
    const { token } = (await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId: 'bob' } })).body as { token: string };
    const usage = await api.request('GET', '/v1/usage', { token });
    expect(usage.body).toEqual({ owner: { ownerId: 'bob', usedBytes: 0, reservedBytes: 50, files: 1 } });
  });
});
