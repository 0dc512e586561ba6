import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

let PNG: Buffer;
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), randomBytes(4096)]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('verification (media-processor, media-verify queue)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let tenantId: string;
  let storage: ObjectStorage;

  beforeAll(async () => {
    PNG = await sharp({ create: { width: 48, height: 32, channels: 4, background: '#36c' } })
      .png()
      .toBuffer();
    stack = await startStack();
    const tenant = await createTenant(stack, { name: 'verify', allowedTypes: ['image/*', 'text/*'] });
    tenantId = tenant.id;
    client = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    storage = new ObjectStorage(testPresigner(stack.storage).s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const settled = (id: string) =>
    until(
      `${id} verified`,
      async () => {
        const { body } = await client.call('GET', `/v1/uploads/${id}`);
        return ['ready', 'rejected', 'failed'].includes(body.status) ? (body.status as string) : null;
      },
      30_000,
      100,
    );
  const row = async (id: string) =>
    (
      await stack.sql<{ status_reason: string | null; detected_type: string | null; sha256: string | null; storage_key: string }>(
        'SELECT status_reason, detected_type, sha256, storage_key FROM files WHERE id = $1',
        [id],
      )
    )[0];
  const used = async () =>
    BigInt((await stack.sql<{ used_bytes: string }>('SELECT used_bytes FROM quota_totals WHERE tenant_id = $1', [tenantId]))[0].used_bytes);

  it('a PNG becomes ready with its detected type and verified SHA-256, visible in the file', async () => {
    const id = await client.upload(PNG, 'picture.png', 'image/png');
    expect(await settled(id)).toBe('ready');
    expect(await row(id)).toMatchObject({ detected_type: 'image/png', sha256: sha(PNG) });
    const file = (await client.call('GET', `/v1/files/${id}`)).body;
    expect(file).toMatchObject({ status: 'ready', detectedType: 'image/png', sha256: sha(PNG), readyAt: expect.any(String) });
    const changes = await stack.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'file.uploaded', 'file.processing', 'file.ready']);
  });

  it('an ELF executable declared image/jpeg is rejected: object gone, quota freed', async () => {
    const before = await used();
    const id = await client.upload(ELF, 'holiday.jpg', 'image/jpeg');
    expect(await settled(id)).toBe('rejected');
    const r = await row(id);
    expect(r.status_reason).toMatch(/^type_not_allowed: the content is application\/x-elf/);
    expect(r.detected_type).toBe('application/x-elf');
    expect(await storage.head(r.storage_key)).toBeNull();
    expect(await used()).toBe(before);
    expect((await client.call('GET', `/v1/files/${id}`)).status).toBe(404);
  });

  it('bytes that do not hash to the declared SHA-256 are rejected', async () => {
    const bytes = Buffer.from('these are not the declared bytes\n');
    const init = await client.call('POST', '/v1/uploads', {
      filename: 'note.txt',
      size: bytes.length,
      contentType: 'text/plain',
      sha256: sha(Buffer.from('other')),
    });
    // moto does not check x-amz-checksum-sha256 (S3 would refuse this PUT): verification catches it.
    await fetch(init.body.upload.url, { method: 'PUT', headers: init.body.upload.headers, body: new Uint8Array(bytes) });
    expect(await settled(init.body.id)).toBe('rejected');
    expect((await row(init.body.id)).status_reason).toMatch(/^sha256_mismatch/);
  });

  it('text, which has no magic bytes, keeps its declared type', async () => {
    const id = await client.upload(Buffer.from('hello, verify\n'), 'hello.txt', 'text/plain');
    expect(await settled(id)).toBe('ready');
    expect((await row(id)).detected_type).toBe('text/plain');
  });
});
