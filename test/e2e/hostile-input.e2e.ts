import fc from 'fast-check';
import { hostileJsonText, hostileString } from '@app/testing';
import { createTenant, E2eStack, startStack } from './stack';

/**
 * Issue #11's property on sync-notifier's routes (upload-api's are in
 * test/integration/api/hostile-input.int.ts): whatever a body holds and whatever string a path id,
 * cursor or query value is, it answers below 500, every 4xx is a problem document, and a refusal
 * writes nothing.
 */
describe('hostile input (sync-notifier, a real process)', () => {
  let stack: E2eStack;
  let apiKey: string;
  let webhookId: string;
  let sync: string;

  beforeAll(async () => {
    stack = await startStack({ services: ['upload-api', 'sync-notifier'] });
    apiKey = (await createTenant(stack, { name: 'hostile' })).apiKey;
    sync = stack.service('sync-notifier').url;
    const created = await send('POST', '/v1/webhooks', JSON.stringify({ url: 'https://example.com/hook', events: ['*'] }));
    webhookId = created.body.id;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function send(method: string, path: string, body?: string): Promise<{ status: number; type: string; body: any }> {
    const res = await fetch(`${sync}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'mallory', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed };
  }

  const rows = async () =>
    JSON.stringify(
      await stack.sql(
        `SELECT (SELECT string_agg(id || secret || coalesce(disabled_at::text, ''), ',' ORDER BY id) FROM webhooks) AS hooks,
                (SELECT count(*) FROM webhook_deliveries) AS deliveries, (SELECT count(*) FROM change_events) AS changes`,
      ),
    );

  const expectSafe = async (res: { status: number; type: string; body: any }, before: string) => {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: res.status, code: expect.any(String) });
      expect(await rows()).toBe(before);
    }
  };

  it('property: any JSON body on every route with a body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/webhooks', `/v1/webhooks/__id__/rotate-secret`), hostileJsonText, async (route, body) => {
        const before = await rows();
        await expectSafe(await send('POST', route.replace('__id__', webhookId), body), before);
      }),
      { numRuns: 150 },
    );
  });

  it('property: any string as a path id, cursor or query value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          (s: string) => ['DELETE', `/v1/webhooks/${s}`],
          (s: string) => ['POST', `/v1/webhooks/${s}/rotate-secret`],
          (s: string) => ['GET', `/v1/webhooks/${s}/deliveries`],
          (s: string) => ['GET', `/v1/webhooks/${webhookId}/deliveries?cursor=${s}`],
          (s: string) => ['GET', `/v1/webhooks/${webhookId}/deliveries?limit=${s}`],
          (s: string) => ['GET', `/v1/changes?cursor=${s}`],
          (s: string) => ['GET', `/v1/changes?limit=${s}`],
        ),
        fc.oneof(hostileString(60), hostileString(6_000, 300)),
        async (route, value) => {
          const [method, path] = route(encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '')));
          const before = await rows();
          await expectSafe(await send(method, path), before);
        },
      ),
      { numRuns: 150 },
    );
  });
});
