import { FileRepository, PrismaService } from '@app/database';
import { ACCEPTING_PARTS, UPLOAD_COMPLETED } from '@app/lifecycle';
import { createTestDatabase, TestDatabase, testConfig } from '@app/testing';

/** The reconciler's storage audit reads (issue #11): which files it visits next, and at what cost. */
describe('storage audit reads (real Postgres)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let files: FileRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase(testConfig().TEST_POSTGRES_URL);
    prisma = new PrismaService({ DATABASE_URL: db.url, DATABASE_POOL_MAX: 4 });
    files = new FileRepository(prisma);
    tenantId = (await prisma.tenant.create({ data: { name: 'audit', quotaBytes: 1n, maxFileBytes: 1n } })).id;
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  const file = async (name: string, status: string, opts: { checked?: Date | null; changed?: Date } = {}) =>
    (
      await prisma.$queryRawUnsafe<Array<{ id: string }>>(
        `INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, storage_key, mode, status, expires_at, updated_at, status_changed_at, storage_checked_at)
         VALUES (gen_random_uuid(), $1::uuid, 'o', $2, 'text/plain', 1, 'uploads/' || $1 || '/' || $2, 'single', $3::file_status, now(), now(), $4::timestamptz, $5::timestamptz)
         RETURNING id::text AS id`,
        tenantId,
        name,
        status,
        opts.changed ?? hoursAgo(2),
        opts.checked ?? null,
      )
    )[0].id;

  it('visits the never asked first, then the least recently asked, skipping the recently asked, the unsettled and other statuses', async () => {
    const never = await file('never', 'ready');
    const dayAgo = await file('day-ago', 'ready', { checked: hoursAgo(30) });
    const older = await file('older', 'processing', { checked: hoursAgo(40) });
    await file('recent', 'ready', { checked: hoursAgo(1) });
    await file('unsettled', 'ready', { changed: new Date() });
    await file('deleted', 'deleted');
    await file('failed', 'failed');
    const pending = await file('pending', 'pending');

    const due = await files.dueForStorageAudit(UPLOAD_COMPLETED, hoursAgo(24), hoursAgo(1), 10);
    expect(due.map((f) => f.id)).toEqual([never, older, dayAgo]);
    expect((await files.dueForStorageAudit(ACCEPTING_PARTS, hoursAgo(1), hoursAgo(1), 10)).map((f) => f.id)).toEqual([pending]);

    await files.markStorageChecked([never, older]);
    expect((await files.dueForStorageAudit(UPLOAD_COMPLETED, hoursAgo(24), hoursAgo(1), 10)).map((f) => f.id)).toEqual([dayAgo]);
  });

  it('reads through its partial index, not past every file ever deleted', async () => {
    // A bucket's history: many files deleted (never audited again), many stored, audited by day.
    await prisma.$executeRawUnsafe(
      `INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, storage_key, mode, status, expires_at, updated_at, status_changed_at, storage_checked_at)
       SELECT gen_random_uuid(), $1::uuid, 'o', 'f' || g, 'text/plain', 1, 'uploads/' || $1 || '/bulk-' || g, 'single',
              (CASE WHEN g % 3 = 0 THEN 'ready' ELSE 'deleted' END)::file_status, now(), now(), now() - interval '2 days',
              CASE WHEN g % 3 = 0 THEN now() - (g % 1000) * interval '1 minute' END
       FROM generate_series(1, 60000) g`,
      tenantId,
    );
    await prisma.$executeRawUnsafe('ANALYZE files');
    const plan = await prisma.$queryRawUnsafe<unknown[]>(
      `EXPLAIN (FORMAT JSON) SELECT id FROM files WHERE status = ANY('{uploaded,processing,ready}'::file_status[])
         AND (storage_checked_at IS NULL OR storage_checked_at < now() - interval '1 hour') AND status_changed_at < now() - interval '10 minutes'
       ORDER BY storage_checked_at NULLS FIRST, id LIMIT 500`,
    );
    expect(JSON.stringify(plan)).toContain('files_storage_audit_idx');
  });
});
