import { randomUUID } from 'node:crypto';
import { ChangeEventRepository, ChangeOutbox, FilePartRepository, PrismaService, StorageEventRepository, VariantRepository } from '@app/database';
import { createTestDatabase, TestDatabase, testConfig } from '@app/testing';

describe('database (real Postgres, migrated template clone)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;

  beforeAll(async () => {
    db = await createTestDatabase(testConfig().TEST_POSTGRES_URL);
    prisma = new PrismaService({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 25 });
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  it('has every table of the data model, applied by prisma migrate deploy', async () => {
    const rows = await prisma.$queryRaw<Array<{ tablename: string }>>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    expect(rows.map((r) => r.tablename)).toEqual([
      '_prisma_migrations',
      'api_keys',
      'change_events',
      'file_parts',
      'files',
      'owner_sequences',
      'processed_storage_events',
      'quota_usage',
      'tenants',
      'variants',
      'webhook_deliveries',
      'webhooks',
    ]);
  });

  it('stores sizes as 64-bit integers (files of terabytes)', async () => {
    const tenant = await prisma.tenant.create({ data: { name: 't', quotaBytes: 2n ** 50n, maxFileBytes: 5n * 2n ** 40n } });
    const file = await prisma.file.create({
      data: {
        tenantId: tenant.id,
        ownerId: 'o',
        filename: 'big.bin',
        contentType: 'application/octet-stream',
        size: 5n * 2n ** 40n,
        storageKey: `k-${randomUUID()}`,
        mode: 'multipart',
        expiresAt: new Date(),
      },
    });
    expect((await prisma.file.findUniqueOrThrow({ where: { id: file.id } })).size).toBe(5n * 2n ** 40n);
  });

  it('refuses negative quota usage, so a double release cannot drift the books', async () => {
    const tenant = await prisma.tenant.create({ data: { name: 'q', quotaBytes: 100n, maxFileBytes: 100n, quota: { create: {} } } });
    await expect(prisma.$executeRaw`UPDATE quota_usage SET reserved_bytes = reserved_bytes - 1 WHERE tenant_id = ${tenant.id}::uuid`).rejects.toThrow(
      /quota_usage_nonneg/,
    );
  });

  it("the part ledger takes storage's listing as the truth: reports of parts storage never held are dropped", async () => {
    const tenant = await prisma.tenant.create({ data: { name: 'ledger', quotaBytes: 2n ** 40n, maxFileBytes: 2n ** 40n } });
    const file = await prisma.file.create({
      data: {
        tenantId: tenant.id,
        ownerId: 'o',
        filename: 'parts.bin',
        contentType: 'application/octet-stream',
        size: 12n * 5n * 2n ** 20n,
        storageKey: `k-${randomUUID()}`,
        mode: 'multipart',
        expiresAt: new Date(),
      },
    });
    const parts = new FilePartRepository(prisma);
    const part = (n: number, etag = `e${n}`) => ({ partNumber: n, size: 5 * 2 ** 20, etag });
    // A client reported parts 1, 2 and 12 (any number up to the upload's maximum is accepted).
    for (const n of [1, 2, 12]) await parts.recordReported(file.id, part(n, `reported-${n}`));
    await parts.recordStored(file.id, [part(1), part(2), part(3)]);
    const rows = await prisma.filePart.findMany({ where: { fileId: file.id }, orderBy: { partNumber: 'asc' } });
    expect(rows.map((r) => [r.partNumber, r.state, r.etag])).toEqual([
      [1, 'stored', 'e1'],
      [2, 'stored', 'e2'],
      [3, 'stored', 'e3'],
    ]);
  });

  describe('StorageEventRepository', () => {
    it('records an event once however many deliveries race for it', async () => {
      const repo = new StorageEventRepository(prisma);
      const event = { eventKey: `b/k#ObjectCreated:Put#${randomUUID()}`, eventName: 'ObjectCreated:Put', fileId: randomUUID() };
      const results = await Promise.all(Array.from({ length: 10 }, () => repo.recordNew([event])));
      expect(results.filter((keys) => keys.has(event.eventKey))).toHaveLength(1);
      expect(await prisma.processedStorageEvent.count({ where: { eventKey: event.eventKey } })).toBe(1);
    });

    it('records a batch in one statement, answering only the keys it had not seen, a key twice in the batch once', async () => {
      const repo = new StorageEventRepository(prisma);
      const seen = { eventKey: `seen-${randomUUID()}`, eventName: 'x', fileId: null };
      const fresh = { eventKey: `fresh-${randomUUID()}`, eventName: 'x', fileId: randomUUID() };
      await repo.recordNew([seen]);
      expect(await repo.recordNew([seen, fresh, fresh])).toEqual(new Set([fresh.eventKey]));
      expect(await prisma.processedStorageEvent.count({ where: { eventKey: { in: [seen.eventKey, fresh.eventKey] } } })).toBe(2);
    });

    it('prunes only rows older than the cutoff', async () => {
      const repo = new StorageEventRepository(prisma);
      const old = `old-${randomUUID()}`;
      const fresh = `fresh-${randomUUID()}`;
      await repo.recordNew([
        { eventKey: old, eventName: 'x', fileId: null },
        { eventKey: fresh, eventName: 'x', fileId: null },
      ]);
      await prisma.processedStorageEvent.update({ where: { eventKey: old }, data: { processedAt: new Date(Date.now() - 10 * 86_400_000) } });
      expect(await repo.pruneOlderThan(new Date(Date.now() - 86_400_000))).toBeGreaterThanOrEqual(1);
      expect(await prisma.processedStorageEvent.findUnique({ where: { eventKey: old } })).toBeNull();
      expect(await prisma.processedStorageEvent.findUnique({ where: { eventKey: fresh } })).not.toBeNull();
    });
  });

  describe('ChangeOutbox and ChangeEventRepository', () => {
    it("numbers an owner's changes 1..N with no gap under 20 concurrent writers, in commit order", async () => {
      const outbox = new ChangeOutbox(prisma);
      const tenant = await prisma.tenant.create({ data: { name: 'feed', quotaBytes: 1n, maxFileBytes: 1n } });
      const writers = 20;
      const perWriter = 10;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await outbox.transaction(async (tx) => {
              await outbox.append(tx, { tenantId: tenant.id, ownerId: 'alice', type: 'file.uploaded', fileId: null, data: { w, i } });
              // A little work inside the transaction widens the race window.
              await tx.$executeRaw`SELECT pg_sleep(0.001)`;
            });
          }
        }),
      );
      const rows = await prisma.changeEvent.findMany({ where: { tenantId: tenant.id, ownerId: 'alice' }, orderBy: { id: 'asc' } });
      expect(rows.map((r) => Number(r.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i + 1));
      // Sequence order equals insertion (commit) order: the row lock serialises writers per owner.
      expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    });

    it('keeps owners independent and rolls the number back with a failed transaction', async () => {
      const repo = new ChangeEventRepository(prisma);
      const outbox = new ChangeOutbox(prisma);
      const tenant = await prisma.tenant.create({ data: { name: 'two', quotaBytes: 1n, maxFileBytes: 1n } });
      const append = (ownerId: string) =>
        outbox.transaction((tx) => outbox.append(tx, { tenantId: tenant.id, ownerId, type: 'upload.created', fileId: null, data: {} }));
      await append('bob');
      await expect(
        outbox.transaction(async (tx) => {
          await outbox.append(tx, { tenantId: tenant.id, ownerId: 'bob', type: 'upload.created', fileId: null, data: {} });
          throw new Error('state change failed');
        }),
      ).rejects.toThrow('state change failed');
      await append('bob');
      await append('carol');
      const bob = await repo.listAfter(tenant.id, 'bob', 0n, 10);
      expect(bob.map((c) => Number(c.cursor))).toEqual([1, 2]);
      expect((await repo.listAfter(tenant.id, 'carol', 0n, 10)).map((c) => Number(c.cursor))).toEqual([1]);
      expect((await repo.listAfter(tenant.id, 'bob', 1n, 10)).map((c) => Number(c.cursor))).toEqual([2]);
    });
  });

  describe('VariantRepository.addToReadyFile', () => {
    it('gives a late rendition to the instant-upload copies sharing the object, each with its change; never to a deleted one', async () => {
      const variants = new VariantRepository(prisma, new ChangeOutbox(prisma));
      const tenant = await prisma.tenant.create({ data: { name: 'shared', quotaBytes: 1n, maxFileBytes: 1n } });
      const file = (ownerId: string, status: 'ready' | 'deleted') =>
        prisma.file.create({
          data: {
            tenantId: tenant.id,
            ownerId,
            filename: 'v.mp4',
            contentType: 'video/mp4',
            size: 1n,
            storageKey: 'uploads/shared/v',
            mode: 'single',
            expiresAt: new Date(),
            status,
          },
        });
      const source = await file('alice', 'ready');
      const copy = await file('bob', 'ready');
      const gone = await file('carol', 'deleted');
      const rendition = {
        name: 'video720',
        storageKey: `variants/${tenant.id}/${source.id}/video720`,
        contentType: 'video/mp4',
        size: 10,
        width: 1280,
        height: 720,
      };

      expect(await variants.addToReadyFile(source.id, rendition)).toBe(true);
      const rows = await prisma.variant.findMany({ where: { name: 'video720' }, orderBy: { fileId: 'asc' } });
      expect(rows.map((r) => [r.fileId, r.storageKey]).sort()).toEqual([source.id, copy.id].map((id) => [id, rendition.storageKey]).sort());
      const added = await prisma.changeEvent.findMany({ where: { tenantId: tenant.id, type: 'file.variant_added' } });
      expect(added.map((c) => [c.ownerId, c.fileId]).sort()).toEqual([
        ['alice', source.id],
        ['bob', copy.id],
      ]);
      expect(added.some((c) => c.fileId === gone.id)).toBe(false);

      // Run again (a retried job): the same rows, and the copy is not given it twice.
      expect(await variants.addToReadyFile(source.id, rendition)).toBe(true);
      expect(await prisma.variant.count({ where: { name: 'video720' } })).toBe(2);
      // A source no longer ready records nothing.
      await prisma.file.update({ where: { id: source.id }, data: { status: 'deleted' } });
      expect(await variants.addToReadyFile(source.id, { ...rendition, name: 'other' })).toBe(false);
      expect(await prisma.variant.count({ where: { name: 'other' } })).toBe(0);
    });
  });
});
