import { randomUUID } from 'node:crypto';
import { FileRecord, FileRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { ApiHarness, createTenant, startApi } from './api-harness';

/**
 * A batch of storage events, as chunk-tracker commits it: every step and every ledger row in one
 * transaction, on real Postgres.
 */
describe('FileLifecycle.applyStorageEvents (real Postgres)', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  let lifecycle: FileLifecycle;
  let files: FileRepository;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api);
    lifecycle = api.app.get(FileLifecycle);
    files = api.app.get(FileRepository);
  });
  afterAll(async () => {
    await api.close();
  });

  async function pendingUpload(size: number): Promise<FileRecord> {
    const init = await api.request('POST', '/v1/uploads', {
      token: tenant.apiKey,
      headers: { 'x-owner-id': 'alice' },
      body: { filename: `${randomUUID()}.bin`, size, contentType: 'application/octet-stream' },
    });
    expect(init.status).toBe(201);
    return (await files.find(init.body.id))!;
  }
  const event = (file: FileRecord, tag = 'e1') => ({
    eventKey: `b/${file.storageKey}#ObjectCreated:Put#${tag}`,
    eventName: 'ObjectCreated:Put',
    fileId: file.id,
  });
  const quota = async () =>
    (
      await api.sql<{ used: string; reserved: string }>('SELECT used_bytes AS used, reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1', [
        tenant.id,
      ])
    )[0];
  const ledgerRows = async (keys: string[]) =>
    Number((await api.sql<{ n: string }>('SELECT count(*) AS n FROM processed_storage_events WHERE event_key = ANY($1)', [keys]))[0].n);
  const changes = async (fileId: string) =>
    (await api.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [fileId])).map((c) => c.type);

  it('commits every step with its ledger row; a redelivery in the same or a later batch changes nothing', async () => {
    const a = await pendingUpload(100);
    const b = await pendingUpload(200);
    const before = await quota();

    const steps = await lifecycle.applyStorageEvents([
      { event: event(a), finding: { step: 'confirmUploaded', file: a, etag: 'etag-a' } },
      { event: event(b), finding: { step: 'confirmUploaded', file: b, etag: 'etag-b' } },
      { event: event(a), finding: { step: 'confirmUploaded', file: a, etag: 'etag-a' } }, // SQS delivered it twice
    ]);

    expect(steps.map((s) => [s.duplicate, s.file?.status ?? null])).toEqual([
      [false, 'uploaded'],
      [false, 'uploaded'],
      [true, null],
    ]);
    expect(await quota()).toEqual({ used: String(Number(before.used) + 300), reserved: String(Number(before.reserved) - 300) });
    expect(await changes(a.id)).toEqual(['upload.created', 'file.uploaded']);
    expect(await ledgerRows([event(a).eventKey, event(b).eventKey])).toBe(2);

    const again = await lifecycle.applyStorageEvents([{ event: event(b), finding: { step: 'confirmUploaded', file: b, etag: 'etag-b' } }]);
    expect(again).toEqual([{ duplicate: true, file: null }]);
    expect(await changes(b.id)).toEqual(['upload.created', 'file.uploaded']);
  });

  it('commits nothing of a batch when one of its steps fails: no step, no ledger row, no quota move', async () => {
    const a = await pendingUpload(100);
    const before = await quota();
    const broken = { eventKey: `b/broken#${randomUUID()}`, eventName: 'ObjectCreated:Put', fileId: 'not-a-uuid' };

    await expect(
      lifecycle.applyStorageEvents([
        { event: event(a), finding: { step: 'confirmUploaded', file: a, etag: 'etag-a' } },
        { event: broken, finding: { step: null } },
      ]),
    ).rejects.toThrow();

    expect((await files.find(a.id))!.status).toBe('pending');
    expect(await quota()).toEqual(before);
    expect(await ledgerRows([event(a).eventKey, broken.eventKey])).toBe(0);
    expect(await changes(a.id)).toEqual(['upload.created']);
  });
});
