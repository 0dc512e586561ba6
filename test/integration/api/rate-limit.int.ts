import { ApiHarness, createTenant, startApi } from './api-harness';

describe('upload-api: rate limits per credential (real Redis)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApi({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 429 with Retry-After past the budget of one key, without touching another key', async () => {
    const a = await createTenant(api);
    const b = await createTenant(api);
    const get = (key: string) => api.request('GET', '/v1/files', { token: key, headers: { 'x-owner-id': 'o' } });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(a.apiKey));
    expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[4].headers['ratelimit-remaining']).toBe('0');
    const limited = answers[5];
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(b.apiKey)).status).toBe(200);
    // The admin token is not rate limited (tenant provisioning by operators).
    for (let i = 0; i < 7; i++)
      expect((await api.request('POST', '/v1/admin/tenants', { token: 'integration-admin-token-0123', body: { name: `t${i}` } })).status).toBe(201);
  });
});
