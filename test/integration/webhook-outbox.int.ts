import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { webhookPayload } from '@app/contracts';
import { ChangeOutbox, CommittedChange, PrismaService, WebhookRepository } from '@app/database';
import { MetricsService } from '@app/observability';
import { JobQueue } from '@app/queue';
import { createTestDatabase, TestDatabase, testConfig } from '@app/testing';
import { WebhooksService } from '../../apps/sync-notifier/src/webhooks.service';

/**
 * The webhook outbox on real Postgres and Redis: deliveries are written in the change's own
 * transaction, only for the tenant's matching endpoints, published only after the commit, and a
 * delivery whose job was lost is enqueued again by the sweep, once.
 */
describe('webhook outbox (real Postgres and Redis)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let redis: Redis;
  let jobs: JobQueue;
  const prefix = `test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase(testConfig().TEST_POSTGRES_URL);
    prisma = new PrismaService({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 5 });
    redis = new Redis(testConfig().TEST_REDIS_URL, { maxRetriesPerRequest: null });
    jobs = new JobQueue(redis, prefix);
  });
  afterAll(async () => {
    await jobs.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await prisma.$disconnect();
    await db.drop();
  });

  it('writes one delivery per matching endpoint with the change, publishes after commit, and sweeps up a lost job once', async () => {
    const tenant = await prisma.tenant.create({ data: { name: 'hooks', quotaBytes: 1n, maxFileBytes: 1n } });
    const other = await prisma.tenant.create({ data: { name: 'other', quotaBytes: 1n, maxFileBytes: 1n } });
    const webhooks = new WebhookRepository(prisma);
    const all = await webhooks.create({ tenantId: tenant.id, url: 'https://example.com/a', events: ['*'], secret: 'whsec_a' });
    const ready = await webhooks.create({ tenantId: tenant.id, url: 'https://example.com/b', events: ['file.ready'], secret: 'whsec_b' });
    await webhooks.create({ tenantId: other.id, url: 'https://example.com/c', events: ['*'], secret: 'whsec_c' });

    const published: CommittedChange[][] = [];
    const changes = new ChangeOutbox(prisma, {
      publish: async (list) => {
        published.push(list);
        // Visible from another connection: the transaction has committed.
        expect(await prisma.webhookDelivery.count({ where: { id: { in: list.flatMap((c) => c.deliveryIds) } } })).toBe(
          list.flatMap((c) => c.deliveryIds).length,
        );
      },
    });
    await changes.transaction(async (tx) => {
      await changes.append(tx, { tenantId: tenant.id, ownerId: 'alice', type: 'upload.created', fileId: null, data: {} });
      await changes.append(tx, { tenantId: tenant.id, ownerId: 'alice', type: 'file.ready', fileId: null, data: {} });
    });
    expect(published[0].map((c) => [c.change.type, c.deliveryIds.length])).toEqual([
      ['upload.created', 1],
      ['file.ready', 2],
    ]);
    const rows = await prisma.webhookDelivery.findMany({ orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => [r.webhookId, r.eventType]).sort()).toEqual(
      [
        [all.id, 'upload.created'],
        [all.id, 'file.ready'],
        [ready.id, 'file.ready'],
      ].sort(),
    );
    expect(rows[0].payload).toMatchObject({ type: expect.any(String), data: { ownerId: 'alice', cursor: expect.any(String) } });
    // The payload is built in SQL: every one matches the schema the documents publish (webhooksForOpenApi).
    for (const row of rows) expect(webhookPayload.strict().parse(row.payload)).toEqual(row.payload);

    // A rolled-back transaction leaves no delivery and publishes nothing.
    await expect(
      changes.transaction(async (tx) => {
        await changes.append(tx, { tenantId: tenant.id, ownerId: 'alice', type: 'file.deleted', fileId: null, data: {} });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await prisma.webhookDelivery.count()).toBe(3);
    expect(published).toHaveLength(1);

    // The jobs were never enqueued (as if lost with Redis): the sweep finds them once they are quiet.
    await prisma.webhookDelivery.updateMany({ data: { createdAt: new Date(Date.now() - 10 * 60_000) } });
    // Pages of two: the sweep goes through every page, not only the first.
    const service = new WebhooksService(
      { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'none', WEBHOOK_SWEEP_BATCH_SIZE: 2 } as never,
      webhooks,
      jobs,
      new MetricsService('test'),
    );
    expect(await service.sweep()).toEqual({ enqueued: 3 });
    expect(await service.sweep()).toEqual({ enqueued: 3 }); // asked again, BullMQ keeps one job per id
    const queued = await jobs.queue('webhooks').getJobs(['waiting', 'delayed']);
    expect(queued.map((j) => j.id).sort()).toEqual(rows.map((r) => `wh-${r.id}`).sort());
  });
});
