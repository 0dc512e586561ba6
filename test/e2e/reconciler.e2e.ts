import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

const MiB = 1024 ** 2;

describe('the reconciler (test-shortened deadlines)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let tenantId: string;
  let storage: ObjectStorage;
  let s3: ReturnType<typeof testPresigner>['s3'];

  beforeAll(async () => {
    stack = await startStack({
      env: {
        UPLOAD_EXPIRY_SECONDS: '3',
        UPLOAD_EXPIRY_BYTES_PER_SECOND: '0',
        RECONCILE_INTERVAL_MS: '1000',
        RECONCILE_STUCK_SECONDS: '2',
        ORPHAN_UPLOAD_MIN_AGE_SECONDS: '0',
      },
    });
    const api = stack.service('upload-api').url;
    const tenant = await createTenant(stack, { name: 'reconcile' });
    tenantId = tenant.id;
    client = new RawClient(api, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    ({ s3 } = testPresigner(stack.storage));
    storage = new ObjectStorage(s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const quota = async () =>
    (
      await stack.sql<{ used_bytes: string; reserved_bytes: string }>('SELECT used_bytes, reserved_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId])
    )[0];

  it('an upload left unfinished past its deadline is aborted in storage, expired, and its quota released', async () => {
    const init = await client.call('POST', '/v1/uploads', { filename: 'abandoned.bin', size: 20 * MiB, contentType: 'application/octet-stream' });
    expect(init.body.mode).toBe('multipart');
    await fetch(init.body.parts[0].url, { method: 'PUT', body: new Uint8Array(8 * MiB) });
    const [row] = await stack.sql<{ s3_upload_id: string }>('SELECT s3_upload_id FROM files WHERE id = $1', [init.body.id]);
    expect((await storage.listMultipartUploads('uploads/')).map((u) => u.uploadId)).toContain(row.s3_upload_id);
    expect((await quota()).reserved_bytes).toBe(String(20 * MiB));

    await until('expiry', async () => ((await client.call('GET', `/v1/uploads/${init.body.id}`)).body.status === 'expired' ? true : null), 20_000, 250);
    // The status commits first and storage is cleaned right after it (a failed abort is left to
    // the orphan sweep), so the multipart upload disappears shortly after the status changes.
    await until(
      'the multipart upload to be aborted',
      async () => !(await storage.listMultipartUploads('uploads/')).some((u) => u.uploadId === row.s3_upload_id),
      10_000,
      100,
    );
    expect(await quota()).toEqual({ used_bytes: '0', reserved_bytes: '0' });
    const changes = await stack.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [init.body.id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'upload.expired']);
    expect((await client.call('POST', `/v1/uploads/${init.body.id}/complete`, {})).body.code).toBe('invalid_state');
  });

  it('a multipart upload storage holds that no upload owns is aborted', async () => {
    const key = `uploads/${tenantId}/${randomUUID()}`;
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: stack.storage.S3_BUCKET, Key: key }));
    await until(
      'the orphan to be aborted',
      async () => !(await storage.listMultipartUploads('uploads/')).some((u) => u.uploadId === created.UploadId),
      20_000,
      250,
    );
  });

  it('an upload stuck in completing (its job lost) is completed again and reaches uploaded', async () => {
    const bytes = randomBytes(20 * MiB);
    const init = await client.call('POST', '/v1/uploads', { filename: 'stuck.bin', size: bytes.length, contentType: 'application/octet-stream' });
    // Keep it clear of the 3 s deadline this stack runs with.
    await stack.sql(`UPDATE files SET expires_at = now() + interval '1 hour' WHERE id = $1`, [init.body.id]);
    for (const part of init.body.parts as Array<{ partNumber: number; url: string }>) {
      const chunk = bytes.subarray((part.partNumber - 1) * init.body.partSize, part.partNumber * init.body.partSize);
      expect((await fetch(part.url, { method: 'PUT', body: new Uint8Array(chunk) })).status).toBe(200);
    }
    // The client asked to complete, but the job was lost with Redis: only the row says `completing`.
    await stack.sql(`UPDATE files SET status = 'completing', status_changed_at = now() - interval '1 hour' WHERE id = $1`, [init.body.id]);
    await until(
      're-driven completion',
      async () => (['uploaded', 'processing', 'ready'].includes((await client.call('GET', `/v1/uploads/${init.body.id}`)).body.status) ? true : null),
      30_000,
      250,
    );
    expect(BigInt((await quota()).used_bytes)).toBeGreaterThanOrEqual(BigInt(bytes.length));
  });
});
