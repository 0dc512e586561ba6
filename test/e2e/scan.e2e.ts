import { randomBytes } from 'node:crypto';
import { ObjectStorage } from '@app/storage';
import { EICAR, TEST_MALWARE_MARKER, testPresigner } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';
import { RawClient } from './upload-client';

const MiB = 1024 ** 2;

/**
 * Issue #15, acceptance 2: the malware scan on a real clamd (the stack's own, on the signatures
 * the project ships for tests). Infected files end rejected with the signature named, their object
 * gone and their quota freed; clean ones ready; with clamd stopped a file waits, and is ready once
 * clamd is back. Files over the scanner's limit follow the tenant's `scanTooLarge`.
 */
describe('malware scanning (media-processor, media-scan queue, clamd)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let lenient: RawClient;
  let tenantId: string;
  let storage: ObjectStorage;

  beforeAll(async () => {
    // A small scanner limit, so "too large" needs no large file.
    stack = await startStack({ env: { CLAMD_STREAM_MAX_BYTES: String(MiB) } });
    const tenant = await createTenant(stack, { name: 'scan', scanTooLarge: 'reject' });
    tenantId = tenant.id;
    client = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    const skipping = await createTenant(stack, { name: 'scan-skip' }); // scanTooLarge: skip, the default
    lenient = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${skipping.apiKey}`, 'x-owner-id': 'bob' });
    storage = new ObjectStorage(testPresigner(stack.storage).s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const statusOf = async (c: RawClient, id: string) => (await c.call('GET', `/v1/uploads/${id}`)).body.status as string;
  const settled = (c: RawClient, id: string) =>
    until(`${id} settled`, async () => ((s) => (['ready', 'rejected', 'failed'].includes(s) ? s : null))(await statusOf(c, id)), 60_000, 100);
  const row = async (id: string) =>
    (
      await stack.sql<{ status_reason: string | null; storage_key: string; scan: string | null }>(
        'SELECT status_reason, storage_key, scan::text AS scan FROM files WHERE id = $1',
        [id],
      )
    )[0];
  const quota = async () =>
    (
      await stack.sql<{ used: string; reserved: string }>('SELECT used_bytes AS used, reserved_bytes AS reserved FROM quota_totals WHERE tenant_id = $1', [
        tenantId,
      ])
    )[0];

  it.each([
    ['the EICAR test file', 'eicar.com.txt', 'text/plain', () => Buffer.from(EICAR), 'Eicar-Test-Signature.UNOFFICIAL'],
    [
      'a file with the custom test signature',
      'setup.exe',
      'application/octet-stream',
      () => Buffer.concat([randomBytes(200_000), Buffer.from(TEST_MALWARE_MARKER), randomBytes(50_000)]),
      'UploadPlatform.Test.Marker.UNOFFICIAL',
    ],
  ])('%s ends rejected with the signature named, its object gone, its quota freed', async (_, name, type, bytes, signature) => {
    const before = await quota();
    const id = await client.upload(bytes(), name, type);
    expect(await settled(client, id)).toBe('rejected');
    const { status_reason, storage_key } = await row(id);
    expect(status_reason).toBe(`malware: ${signature}`);
    const rejected = await stack.sql<{ payload: { reason: string } }>("SELECT payload FROM change_events WHERE file_id = $1 AND type = 'file.rejected'", [id]);
    expect(rejected.map((c) => c.payload.reason)).toEqual([`malware: ${signature}`]);
    expect(await storage.head(storage_key)).toBeNull();
    expect(await quota()).toEqual(before);
    // Never served: the file is gone for its owner.
    expect((await client.call('GET', `/v1/files/${id}/content`)).status).toBe(404);
  });

  it('a clean file ends ready, scanned clean', async () => {
    const id = await client.upload(randomBytes(300_000), 'clean.bin', 'application/octet-stream');
    expect(await settled(client, id)).toBe('ready');
    expect((await client.call('GET', `/v1/files/${id}`)).body).toMatchObject({ status: 'ready', scan: 'clean' });
  });

  it('with clamd stopped a new file waits (never ready unscanned); once clamd is back it becomes ready', async () => {
    await stack.clamd.stop();
    try {
      const id = await client.upload(randomBytes(100_000), 'waits.bin', 'application/octet-stream');
      await until('verified and waiting for the scan', async () => (await statusOf(client, id)) === 'processing', 30_000, 100);
      await sleep(5_000); // several scan attempts fail meanwhile
      expect(await statusOf(client, id)).toBe('processing');
      expect((await row(id)).scan).toBeNull();
      await stack.clamd.start();
      expect(await settled(client, id)).toBe('ready');
      expect((await row(id)).scan).toBe('clean');
    } finally {
      await stack.clamd.start().catch(() => undefined);
    }
  }, 90_000);

  it("a file over the scanner's limit: ready with scan skipped_too_large by default; rejected where the tenant asks for that", async () => {
    const strict = await client.upload(randomBytes(2 * MiB), 'big.bin', 'application/octet-stream');
    expect(await settled(client, strict)).toBe('rejected');
    expect((await row(strict)).status_reason).toMatch(/^scan_too_large: 2097152 bytes/);
    const skipped = await lenient.upload(randomBytes(2 * MiB), 'big.bin', 'application/octet-stream');
    expect(await settled(lenient, skipped)).toBe('ready');
    expect((await lenient.call('GET', `/v1/files/${skipped}`)).body).toMatchObject({ status: 'ready', scan: 'skipped_too_large' });
  });
});
