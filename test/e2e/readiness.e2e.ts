import { freePort, PrivateRedis, ServiceName } from '@app/testing';
import { ALL_SERVICES, E2eStack, startStack, until } from './stack';

// Every service uses Redis (BullMQ), so all four must follow its outages.
describe('readiness follows Redis, without restarts', () => {
  let redis: PrivateRedis;
  let stack: E2eStack;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    stack = await startStack({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('every service reports not ready within 10 s of Redis stopping, and ready again when it returns', async () => {
    const pids = new Map(ALL_SERVICES.map((name) => [name, stack.service(name).pid]));
    await redis.stop();
    const stoppedAt = Date.now();
    const notReadyAfter = new Map<ServiceName, number>();
    await Promise.all(
      ALL_SERVICES.map(async (name) => {
        const doc = await until(
          `${name} to report Redis down`,
          async () => {
            const r = await stack.service(name).readiness();
            return r.status === 503 ? r.body : null;
          },
          10_000,
          200,
        );
        notReadyAfter.set(name, Date.now() - stoppedAt);
        expect(doc.error.redis.status).toBe('down');
        expect(doc.info.database.status).toBe('up');
      }),
    );
    for (const ms of notReadyAfter.values()) expect(ms).toBeLessThan(10_000);
    process.stdout.write(`readiness: not ready after Redis stopped, ms: ${JSON.stringify(Object.fromEntries(notReadyAfter))}\n`);

    await redis.start();
    const restartedAt = Date.now();
    await Promise.all(
      ALL_SERVICES.map((name) => until(`${name} to be ready again`, async () => (await stack.service(name).readiness()).status === 200, 20_000, 200)),
    );
    process.stdout.write(`readiness: all ready again ${Date.now() - restartedAt} ms after Redis returned\n`);
    // The same processes: recovery needed no restart.
    for (const name of ALL_SERVICES) expect(stack.service(name).pid).toBe(pids.get(name));
  });
});
