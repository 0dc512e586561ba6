import { randomUUID } from 'node:crypto';
import { ALL_SERVICES, E2eStack, presignedPut, sleep, startStack, until } from './stack';

async function countEvents(stack: E2eStack, tenantId: string): Promise<{ rows: number; distinctKeys: number }> {
  const [r] = await stack.sql<{ rows: string; keys: string }>(
    `SELECT count(*) AS rows, count(DISTINCT event_key) AS keys FROM processed_storage_events WHERE event_key LIKE $1`,
    [`%/uploads/${tenantId}/%`],
  );
  return { rows: Number(r.rows), distinctKeys: Number(r.keys) };
}

describe('graceful shutdown', () => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('chunk-tracker stopped by %s while consuming loses and duplicates nothing', async (signal) => {
    const tenantId = randomUUID();
    const total = 60;
    // Keep events flowing while the tracker is stopped and started again.
    const uploads = (async () => {
      for (let i = 0; i < total; i++) await presignedPut(stack.storage, `uploads/${tenantId}/${randomUUID()}`, Buffer.from(`object ${i}`));
    })();
    await until('the tracker to be working', async () => (await countEvents(stack, tenantId)).rows >= 5);
    const result = await stack.service('chunk-tracker').stop(signal);
    if (signal === 'SIGTERM') {
      expect(result.code).toBe(0);
      expect(result.ms).toBeLessThan(10_000);
      process.stdout.write(`shutdown: chunk-tracker stopped mid-stream by SIGTERM, exited ${result.code} in ${result.ms} ms\n`);
    }
    const atStop = (await countEvents(stack, tenantId)).rows;
    expect(atStop).toBeLessThan(total);
    await sleep(500);
    await stack.restart('chunk-tracker');
    await uploads;
    // After a SIGKILL, unacknowledged messages come back after their visibility timeout (10 s here).
    await until(`all ${total} events recorded`, async () => (await countEvents(stack, tenantId)).rows === total, 40_000, 250);
    await sleep(signal === 'SIGKILL' ? 11_000 : 1_000); // past any redelivery: still no duplicate
    expect(await countEvents(stack, tenantId)).toEqual({ rows: total, distinctKeys: total });
  });

  it.each(ALL_SERVICES)('%s exits 0 within 10 s of SIGTERM', async (name) => {
    const result = await stack.service(name).stop('SIGTERM');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.ms).toBeLessThan(10_000);
    process.stdout.write(`shutdown: ${name} exited ${result.code} ${result.ms} ms after SIGTERM\n`);
    expect(stack.service(name).output.join('\n')).toMatch(/"msg":"stopped"/);
  });
});
