import { ADMIN_TOKEN, ApiHarness, createTenant, startApi } from './api-harness';

describe('upload-api: rate limits per credential (real Redis)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApi({ API_KEY_RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await api.close();
  });

  /** An API key names the owner it acts for; a user token is the owner. */
  const listFiles = (token: string, owner: string | null = 'o') => api.request('GET', '/v1/files', { token, headers: owner ? { 'x-owner-id': owner } : {} });

  it('answers 429 with Retry-After past the budget of one API key, without touching another key', async () => {
    const a = await createTenant(api);
    const b = await createTenant(api);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await listFiles(a.apiKey));
    expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[4].headers['ratelimit-remaining']).toBe('0');
    const limited = answers[5];
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await listFiles(b.apiKey)).status).toBe(200);
    // The admin token is not rate limited (tenant provisioning by operators).
    for (let i = 0; i < 7; i++) expect((await api.request('POST', '/v1/admin/tenants', { token: ADMIN_TOKEN, body: { name: `t${i}` } })).status).toBe(201);
  });

  it("gives one owner's user tokens one budget of their own (RATE_LIMIT_PER_MINUTE), apart from the API key's", async () => {
    const tenant = await createTenant(api);
    const mint = async (ownerId: string) => (await api.request('POST', '/v1/tokens', { token: tenant.apiKey, body: { ownerId } })).body.token as string;
    const [phone, laptop, other] = [await mint('alice'), await mint('alice'), await mint('bob')];
    const statuses = [];
    for (const token of [phone, laptop, phone, laptop]) statuses.push((await listFiles(token, null)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await listFiles(other, null)).status).toBe(200);
    // Three mints of five: the key's own budget is apart from its owners'.
    expect((await listFiles(tenant.apiKey)).headers['ratelimit-remaining']).toBe('1');
  });
});
