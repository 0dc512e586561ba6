import { createTenant, ALL_SERVICES, E2eStack, sleep, startStack, until } from './stack';
import { RawClient } from './upload-client';

describe('graceful shutdown', () => {
  let stack: E2eStack;
  let client: RawClient;
  let tenantId: string;

  beforeAll(async () => {
    stack = await startStack();
    const api = stack.service('upload-api').url;
    const tenant = await createTenant(stack, { name: 'shutdown' });
    tenantId = tenant.id;
    client = new RawClient(api, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const uploadedCount = async (ids: string[]) =>
    Number(
      (await stack.sql<{ n: string }>(`SELECT count(*) AS n FROM files WHERE id = ANY($1::uuid[]) AND status IN ('uploaded', 'processing', 'ready')`, [ids]))[0]
        .n,
    );

  it.each(['SIGTERM', 'SIGKILL'] as const)('chunk-tracker stopped by %s while holding messages: every upload still reaches uploaded, once', async (signal) => {
    const total = 40;
    const ids: string[] = [];
    const before = (await stack.sql<{ used_bytes: string }>('SELECT used_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId]))[0];
    // Keep uploads flowing while the tracker is stopped and started again.
    const uploads = (async () => {
      for (let i = 0; i < total; i++) ids.push(await client.upload(Buffer.from(`object ${i} of ${signal}`), `${signal}-${i}.txt`, 'text/plain'));
    })();
    await until('the tracker to be working', async () => ids.length > 0 && (await uploadedCount(ids)) >= 5);
    const result = await stack.service('chunk-tracker').stop(signal);
    if (signal === 'SIGTERM') {
      expect(result.code).toBe(0);
      expect(result.ms).toBeLessThan(10_000);
      process.stdout.write(`shutdown: chunk-tracker stopped mid-stream by SIGTERM, exited ${result.code} in ${result.ms} ms\n`);
    }
    expect(await uploadedCount(ids)).toBeLessThan(total);
    await sleep(500);
    await stack.restart('chunk-tracker');
    await uploads;
    // After a SIGKILL, unacknowledged messages come back after their visibility timeout (10 s here).
    await until(`all ${total} uploads uploaded`, async () => (await uploadedCount(ids)) === total, 40_000, 250);
    await sleep(signal === 'SIGKILL' ? 11_000 : 1_000); // past any redelivery: still nothing twice
    const changes = await stack.sql<{ type: string; n: string }>(
      `SELECT type, count(*) AS n FROM change_events WHERE file_id = ANY($1::uuid[]) AND type IN ('upload.created', 'file.uploaded') GROUP BY type ORDER BY type`,
      [ids],
    );
    expect(changes.map((c) => [c.type, Number(c.n)])).toEqual([
      ['file.uploaded', total],
      ['upload.created', total],
    ]);
    const [sum] = await stack.sql<{ s: string }>('SELECT sum(size) AS s FROM files WHERE id = ANY($1::uuid[])', [ids]);
    const after = (await stack.sql<{ used_bytes: string }>('SELECT used_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId]))[0];
    expect(BigInt(after.used_bytes) - BigInt(before.used_bytes)).toBe(BigInt(sum.s));
  });

  it.each(ALL_SERVICES)('%s exits 0 within 10 s of SIGTERM', async (name) => {
    const result = await stack.service(name).stop('SIGTERM');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.ms).toBeLessThan(10_000);
    process.stdout.write(`shutdown: ${name} exited ${result.code} ${result.ms} ms after SIGTERM\n`);
    expect(stack.service(name).output.join('\n')).toMatch(/"msg":"stopped"/);
  });
});
