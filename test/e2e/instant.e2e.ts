import { createHash, randomBytes } from 'node:crypto';
import { fromBytes, UploadClient } from '@app/sdk';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('instant uploads (deduplication by verified SHA-256)', () => {
  let stack: E2eStack;
  let storage: ObjectStorage;
  let api: string;

  beforeAll(async () => {
    stack = await startStack();
    api = stack.service('upload-api').url;
    storage = new ObjectStorage(testPresigner(stack.storage).s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const as = (apiKey: string, owner: string) => new RawClient(api, { authorization: `Bearer ${apiKey}`, 'x-owner-id': owner });
  const ready = (client: RawClient, id: string) =>
    until(`${id} ready`, async () => ((await client.call('GET', `/v1/uploads/${id}`)).body.status === 'ready' ? true : null), 30_000, 100);
  it('the same owner gets a deduplicated file at once; another owner and another tenant must upload; deleting either copy leaves the other', async () => {
    const tenant = await createTenant(stack, { name: 'dedup' });
    const other = await createTenant(stack, { name: 'elsewhere' });
    const alice = as(tenant.apiKey, 'alice');
    const bytes = randomBytes(4096);
    const body = { filename: 'report.bin', size: bytes.length, contentType: 'application/octet-stream', sha256: sha(bytes) };

    const original = await alice.upload(bytes, 'report.bin');
    await ready(alice, original);

    const again = await alice.call('POST', '/v1/uploads', { ...body, filename: 'report copy.bin' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'ready', deduplicated: true, size: bytes.length });
    expect(again.body.upload).toBeUndefined();
    const copy = again.body.id as string;
    expect((await alice.call('GET', `/v1/files/${copy}`)).body).toMatchObject({ filename: 'report copy.bin', status: 'ready', sha256: sha(bytes) });

    // Another owner of the same tenant, and another tenant, get a normal upload: bytes must move.
    expect((await as(tenant.apiKey, 'bob').call('POST', '/v1/uploads', body)).status).toBe(201);
    expect((await as(other.apiKey, 'alice').call('POST', '/v1/uploads', body)).status).toBe(201);

    // Deleting either copy leaves the other downloadable; the object goes with the last one.
    const [row] = await stack.sql<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [original]);
    expect((await alice.call('DELETE', `/v1/files/${original}`)).status).toBe(204);
    const res = await fetch(`${api}/v1/files/${copy}/content`, { headers: { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' } });
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(bytes));
    expect(await storage.head(row.storage_key)).not.toBeNull();
    expect((await alice.call('DELETE', `/v1/files/${copy}`)).status).toBe(204);
    expect(await storage.head(row.storage_key)).toBeNull();
  });

  it('a tenant that opted in deduplicates across its owners, and the SDK finishes at once', async () => {
    const tenant = await createTenant(stack, { name: 'shared', dedupScope: 'tenant' });
    const bytes = randomBytes(2048);
    const first = await as(tenant.apiKey, 'alice').upload(bytes, 'shared.bin');
    await ready(as(tenant.apiKey, 'alice'), first);
    const sdk = new UploadClient({ baseUrl: api, token: tenant.apiKey, ownerId: 'bob' });
    const result = await sdk.upload(fromBytes(bytes), { filename: 'mine too.bin' }).done;
    expect(result.status).toBe('ready');
    expect(result.id).not.toBe(first);
    const [row] = await stack.sql<{ status_reason: string }>('SELECT status_reason FROM files WHERE id = $1', [result.id]);
    expect(row.status_reason).toBe(`deduplicated:${first}`);
  });
});
