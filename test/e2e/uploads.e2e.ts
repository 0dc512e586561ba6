import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash, randomBytes } from 'node:crypto';
import { createSqsClient, ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';
import { putRaw, RawClient } from './upload-client';

const MiB = 1024 ** 2;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the upload path end to end: storage events decide', () => {
  let stack: E2eStack;
  let client: RawClient;
  let tenantId: string;
  let storage: ObjectStorage;

  beforeAll(async () => {
    stack = await startStack();
    const api = stack.service('upload-api').url;
    const tenant = await createTenant(stack, { name: 'e2e', quotaBytes: 1024 ** 3 });
    tenantId = tenant.id;
    client = new RawClient(api, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    storage = new ObjectStorage(testPresigner(stack.storage).s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const status = async (id: string) => (await client.call('GET', `/v1/uploads/${id}`)).body.status as string;
  // Past the upload: media-processor takes `uploaded` files on to `processing` and `ready` at once.
  const uploaded = (id: string) =>
    until(`${id} uploaded`, async () => (['uploaded', 'processing', 'ready'].includes(await status(id)) ? true : null), 30_000, 100);
  const uploadChanges = async (id: string) =>
    (
      await stack.sql<{ type: string }>(
        `SELECT type FROM change_events WHERE file_id = $1 AND type IN ('upload.created', 'file.uploaded', 'file.rejected') ORDER BY seq`,
        [id],
      )
    ).map((c) => c.type);
  const quota = async () =>
    (
      await stack.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId])
    )[0];

  it.each([
    ['0 B', 0],
    ['1 KiB', 1024],
    ['5 MiB', 5 * MiB],
    ['40 MiB (multipart)', 40 * MiB + 7],
  ])('%s reaches uploaded through its S3 event, and storage holds exactly the bytes', async (_, size) => {
    const bytes = randomBytes(size);
    const id = await client.upload(bytes, `f-${size}.bin`);
    await uploaded(id);
    const [row] = await stack.sql<{ storage_key: string; uploaded_at: Date }>('SELECT storage_key, uploaded_at FROM files WHERE id = $1', [id]);
    expect(row.uploaded_at).toBeInstanceOf(Date);
    const stored = Buffer.concat(await (await storage.openReadStream(row.storage_key)).toArray());
    expect(sha(stored)).toBe(sha(bytes));
    const events = await stack.sql<{ event_name: string }>('SELECT event_name FROM processed_storage_events WHERE file_id = $1', [id]);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(await uploadChanges(id)).toEqual(['upload.created', 'file.uploaded']);
  });

  it('an upload is not uploaded before storage has the object, whatever the client says', async () => {
    const init = await client.call('POST', '/v1/uploads', { filename: 'late.txt', size: 4, contentType: 'text/plain' });
    const early = await client.call('POST', `/v1/uploads/${init.body.id}/complete`, {});
    expect(early.status).toBe(409);
    await sleep(500);
    expect(await status(init.body.id)).toBe('pending');
  });

  it('the same S3 event three times and out of order: one transition, one change event, one quota conversion', async () => {
    const before = await quota();
    const bytes = randomBytes(2048);
    const id = await client.upload(bytes, 'dup.bin');
    await uploaded(id);
    const [row] = await stack.sql<{ storage_key: string; etag: string }>('SELECT storage_key, etag FROM files WHERE id = $1', [id]);
    const record = (eventName: string, etag: string) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventTime: new Date().toISOString(),
      eventName,
      s3: { bucket: { name: stack.storage.S3_BUCKET }, object: { key: row.storage_key.replace(/\//g, '%2F'), size: bytes.length, eTag: etag } },
    });
    const sqs = createSqsClient(stack.sqs!);
    // Redeliveries of the real event, a Complete after the Put, and an event with another ETag: in reverse order, three times.
    const bodies = [
      record('ObjectCreated:CompleteMultipartUpload', row.etag),
      record('ObjectCreated:Put', `${row.etag}`),
      record('ObjectCreated:Put', 'another-etag'),
    ].reverse();
    for (let i = 0; i < 3; i++)
      for (const r of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: stack.sqs!.SQS_QUEUE_URL, MessageBody: JSON.stringify({ Records: [r] }) }));
    sqs.destroy();
    await until('the injected events to be consumed', async () => {
      const metrics = await (await fetch(`${stack.service('chunk-tracker').url}/metrics`)).text();
      const dup = /storage_events_total\{event="ObjectCreated:Put",outcome="duplicate",service="chunk-tracker"\} (\d+)/.exec(metrics);
      return dup && Number(dup[1]) >= 5 ? true : null;
    });
    await sleep(500);
    expect(await uploadChanges(id)).toEqual(['upload.created', 'file.uploaded']);
    const after = await quota();
    expect(BigInt(after.used_bytes) - BigInt(before.used_bytes)).toBe(2048n);
    expect(after.reserved_bytes).toBe(before.reserved_bytes);
    expect(['uploaded', 'processing', 'ready']).toContain(await status(id));
  });

  it('a single PUT larger than declared ends rejected: object deleted, quota released', async () => {
    const before = await quota();
    const init = await client.call('POST', '/v1/uploads', { filename: 'liar.bin', size: 10, contentType: 'application/octet-stream' });
    expect(await putRaw(init.body.upload.url, 'application/octet-stream', randomBytes(4096))).toBe(200);
    await until('rejection', async () => ((await status(init.body.id)) === 'rejected' ? true : null), 30_000);
    const [row] = await stack.sql<{ storage_key: string; status_reason: string }>('SELECT storage_key, status_reason FROM files WHERE id = $1', [init.body.id]);
    expect(row.status_reason).toMatch(/^size_mismatch/);
    expect(await storage.head(row.storage_key)).toBeNull();
    expect(await quota()).toEqual(before);
    expect(await uploadChanges(init.body.id)).toEqual(['upload.created', 'file.rejected']);
  });
});
