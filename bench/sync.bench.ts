import jwt from 'jsonwebtoken';
import { WebSocket } from 'ws';
import { ChangeOutbox, PrismaService } from '@app/database';
import { createRedis, JobQueue, RedisChangePublisher, RedisChangesChannel } from '@app/queue';
import { createTestDatabase, envStrings, freePort, prepareTemplateDatabase, residentBytes, ServiceProcess, sleep, testConfig } from '@app/testing';
import { round } from './presign.bench';

const DEVICES = 10_000;
const OWNERS = 5_000; // two devices each
const CHANGES = 2_000;
const SECRET = 'bench-token-signing-secret-0123456789abcdef';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Issue #5: 10,000 devices connected to one sync-notifier process; changes committed through the
 * real write path (transaction, owner sequence, PUBLISH after commit) for random owners; latency
 * from the commit's return to the device's receipt; resident memory per idle connection.
 */
export async function benchSync(): Promise<Record<string, number>> {
  const cfg = testConfig();
  await prepareTemplateDatabase(cfg.TEST_POSTGRES_URL);
  const db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
  const prefix = `bench-${db.name}`;
  const env = envStrings({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: 10,
    REDIS_URL: cfg.TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    TOKEN_SIGNING_SECRET: SECRET,
    SYNC_MAX_CONNECTIONS_PER_OWNER: 20,
  });
  const notifier = new ServiceProcess('sync-notifier', await freePort(), env).start();
  const prisma = new PrismaService({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 20 });
  const redis = createRedis({ REDIS_URL: cfg.TEST_REDIS_URL, REDIS_CLUSTER: false }, 'producer');
  const jobs = new JobQueue(redis, prefix);
  // The moment each change committed: the outbox hands changes to its publisher right after the
  // commit returns, before the PUBLISH.
  const committedAt = new Map<string, number>();
  const publisher = new RedisChangePublisher(
    new RedisChangesChannel(redis, prefix, () => createRedis({ REDIS_URL: cfg.TEST_REDIS_URL, REDIS_CLUSTER: false }, 'subscriber')),
    jobs,
  );
  const changes = new ChangeOutbox(prisma, {
    publish: (list) => {
      const now = performance.now();
      for (const c of list) committedAt.set(String(c.change.data.n), now);
      return publisher.publish(list);
    },
  });
  const sockets: WebSocket[] = [];
  try {
    await notifier.ready();
    const tenant = await prisma.tenant.create({ data: { name: 'bench', quotaBytes: 1n, maxFileBytes: 1n } });
    const token = (owner: number) =>
      jwt.sign({ sub: `owner-${owner}`, tid: tenant.id }, SECRET, { algorithm: 'HS256', audience: 'upload-platform:user', expiresIn: 3600 });
    await sleep(2_000);
    const rssBefore = residentBytes(notifier.pid!);

    // Connect, 200 handshakes at a time; every device records when each change arrives.
    const arrivals = new Map<string, number>();
    const url = `${notifier.url.replace('http', 'ws')}/v1/sync`;
    const connectStart = performance.now();
    for (let i = 0; i < DEVICES; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, DEVICES - i) }, (_, j) => {
          const owner = (i + j) % OWNERS;
          return new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token(owner)}` }, perMessageDeflate: false });
            ws.on('message', (data: Buffer) => {
              const m = JSON.parse(data.toString('utf8')) as { change: { data: { n: string } } };
              const key = `${m.change.data.n}:${i + j}`;
              if (!arrivals.has(key)) arrivals.set(key, performance.now());
            });
            ws.once('open', () => resolve());
            ws.once('error', reject);
            sockets.push(ws);
          });
        }),
      );
    }
    const connectMs = performance.now() - connectStart;
    await sleep(3_000); // idle: heartbeats only
    const rssIdle = residentBytes(notifier.pid!);

    // Changes for random owners, 100 at a time in flight; latency from commit to each of the owner's devices.
    const committed = new Map<string, number[]>();
    for (let n = 0; n < CHANGES; n += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, k) => {
          const owner = Math.floor(Math.random() * OWNERS);
          const id = `${n + k}`;
          await changes.transaction((tx) =>
            changes.append(tx, { tenantId: tenant.id, ownerId: `owner-${owner}`, type: 'file.ready', fileId: null, data: { n: id } }),
          );
          committed.set(id, [owner, owner + OWNERS]);
        }),
      );
      await sleep(50);
    }
    await sleep(2_000);
    const latencies: number[] = [];
    let missing = 0;
    for (const [id, devices] of committed) {
      for (const device of devices) {
        const arrived = arrivals.get(`${id}:${device}`);
        if (arrived === undefined) missing++;
        else latencies.push(arrived - committedAt.get(id)!);
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      devices: DEVICES,
      connectPerSecond: round((DEVICES * 1000) / connectMs),
      changes: CHANGES,
      deliveries: latencies.length,
      missingDeliveries: missing,
      latencyP50Ms: round(percentile(latencies, 50)),
      latencyP99Ms: round(percentile(latencies, 99)),
      latencyMaxMs: round(latencies[latencies.length - 1] ?? 0),
      rssBeforeMiB: round(rssBefore / 1024 ** 2),
      rssIdleMiB: round(rssIdle / 1024 ** 2),
      bytesPerIdleConnection: Math.round((rssIdle - rssBefore) / DEVICES),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await notifier.stop();
    await jobs.close();
    redis.disconnect();
    await prisma.$disconnect();
    await db.drop();
  }
}
