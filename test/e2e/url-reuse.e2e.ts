import { createHash, randomBytes } from 'node:crypto';
import { ObjectStorage } from '@app/storage';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';
import { RawClient } from './upload-client';

const MiB = 1024 ** 2;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Other bytes of the same length: what a reused URL would carry (its signed length still fits). */
const otherBytes = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0xff));

interface SignedPut {
  url: string;
  headers: Record<string, string>;
}

/**
 * Issue #11: a ready file can never be overwritten through the URLs that uploaded it. Every kind of
 * upload URL is used again after it served (a single PUT, a part after completion, a part after an
 * abort), and a write storage did let through (a hand in the bucket, a store that ignores
 * `If-None-Match`) takes the file out of `ready`: whenever a file is `ready`, the bytes served hash
 * to its `sha256`.
 */
describe('upload URLs are single-use, and a ready file always serves the bytes of its sha256', () => {
  let stack: E2eStack;
  let client: RawClient;
  let api: string;
  let auth: Record<string, string>;
  let storage: ObjectStorage;

  beforeAll(async () => {
    stack = await startStack();
    api = stack.service('upload-api').url;
    const tenant = await createTenant(stack, { name: 'reuse', quotaBytes: 1024 ** 3 });
    auth = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' };
    client = new RawClient(api, auth);
    storage = new ObjectStorage(testPresigner(stack.storage).s3, stack.storage.S3_BUCKET);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const status = async (id: string) => (await client.call('GET', `/v1/uploads/${id}`)).body.status as string;
  const reaches = (id: string, wanted: string) => until(`${id} ${wanted}`, async () => ((await status(id)) === wanted ? true : null), 30_000, 100);
  const served = async (id: string) => {
    const res = await fetch(`${api}/v1/files/${id}/content`, { headers: auth });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const row = async (id: string) =>
    (
      await stack.sql<{ status: string; status_reason: string | null; sha256: string | null }>(
        'SELECT status, status_reason, sha256 FROM files WHERE id = $1',
        [id],
      )
    )[0];
  /** The invariant: a `ready` file serves exactly the bytes its `sha256` names (and those are `expected`). */
  const holdsInvariant = async (id: string, expected: Buffer) => {
    const file = (await client.call('GET', `/v1/files/${id}`)).body as { status: string; sha256: string };
    expect(file.status).toBe('ready');
    expect(file.sha256).toBe(sha(expected));
    expect(sha(await served(id))).toBe(file.sha256);
  };
  /** Long enough for a write's S3 event to cross SQS, chunk-tracker and a verification. */
  const settle = () => sleep(3_000);

  const initSingle = async (bytes: Buffer, filename: string) => {
    const init = await client.call('POST', '/v1/uploads', { filename, size: bytes.length, contentType: 'text/plain' });
    expect(init.status).toBe(201);
    expect(init.body.mode).toBe('single');
    return { id: init.body.id as string, put: init.body.upload as SignedPut };
  };
  const put = async (url: SignedPut, body: Buffer) => (await fetch(url.url, { method: 'PUT', headers: url.headers, body: new Uint8Array(body) })).status;

  /** A multipart upload with every part sent; its part URLs are kept for reuse. */
  const multipart = async (bytes: Buffer, filename: string) => {
    const init = await client.call('POST', '/v1/uploads', { filename, size: bytes.length, contentType: 'application/octet-stream' });
    expect(init.status).toBe(201);
    expect(init.body.mode).toBe('multipart');
    const { id, partSize, partCount } = init.body as { id: string; partSize: number; partCount: number };
    const signed = await client.call('POST', `/v1/uploads/${id}/parts`, { partNumbers: Array.from({ length: partCount }, (_, i) => i + 1) });
    const parts = signed.body.parts as Array<SignedPut & { partNumber: number }>;
    const chunk = (n: number, of = bytes) => of.subarray((n - 1) * partSize, n * partSize);
    for (const p of parts) expect(await put(p, chunk(p.partNumber))).toBe(200);
    return { id, parts, chunk };
  };

  it('a single PUT URL used again after the file is ready, with other bytes of the same length, is refused; the file keeps its bytes', async () => {
    const bytes = Buffer.from(`a note without a declared hash ${randomBytes(8).toString('hex')}\n`);
    const { id, put: url } = await initSingle(bytes, 'note.txt');
    expect(await put(url, bytes)).toBe(200);
    await reaches(id, 'ready');
    await holdsInvariant(id, bytes);

    // The reproduction: same URL, same headers, other bytes. Storage refuses the overwrite.
    expect(await put(url, otherBytes(bytes))).toBe(412);
    // And the very same bytes again: still no second write.
    expect(await put(url, bytes)).toBe(412);
    await settle();
    await holdsInvariant(id, bytes);
    // What makes it single-use: the condition is signed, so a client cannot leave it out.
    expect(url.headers['if-none-match']).toBe('*');
    expect(new URL(url.url).searchParams.get('X-Amz-SignedHeaders')).toContain('if-none-match');
  });

  it('a part URL used again after the upload completed, or after it was aborted, writes nothing', async () => {
    const bytes = randomBytes(17 * MiB + 3);
    const done = await multipart(bytes, 'done.bin');
    expect((await client.call('POST', `/v1/uploads/${done.id}/complete`, {})).status).toBe(202);
    await reaches(done.id, 'ready');
    await holdsInvariant(done.id, bytes);

    const other = otherBytes(bytes);
    // Storage no longer knows the upload id (AWS: 404 NoSuchUpload; moto 5.2.1 fails with a 500).
    for (const p of done.parts) expect(await put(p, done.chunk(p.partNumber, other))).not.toBe(200);
    // Completing again changes nothing either.
    expect((await client.call('POST', `/v1/uploads/${done.id}/complete`, {})).status).toBeLessThan(500);
    await settle();
    await holdsInvariant(done.id, bytes);

    const aborted = await multipart(randomBytes(17 * MiB + 5), 'aborted.bin');
    expect((await client.call('DELETE', `/v1/uploads/${aborted.id}`)).status).toBeLessThan(300);
    await reaches(aborted.id, 'aborted');
    for (const p of aborted.parts) expect(await put(p, aborted.chunk(p.partNumber, other))).not.toBe(200);
    await settle();
    expect(await status(aborted.id)).toBe('aborted');
    const [{ storage_key: key }] = await stack.sql<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [aborted.id]);
    expect(await storage.head(key)).toBeNull();
  });

  it('bytes that storage let through after all (no If-None-Match) take the file out of ready, tell the owner, and serve no instant upload', async () => {
    const bytes = Buffer.from(`verified words ${randomBytes(8).toString('hex')}\n`);
    const { id, put: url } = await initSingle(bytes, 'words.txt');
    expect(await put(url, bytes)).toBe(200);
    await reaches(id, 'ready');
    const [{ storage_key: key }] = await stack.sql<{ storage_key: string }>('SELECT storage_key FROM files WHERE id = $1', [id]);

    // A write the URL cannot make any more: straight into the bucket, unconditionally.
    const changed = otherBytes(bytes);
    await storage.put(key, changed, 'text/plain');

    // Until its event arrives the file may still say ready; from then on it never serves these
    // bytes as ready: verified again, they no longer hash to its sha256.
    await reaches(id, 'failed');
    expect(await row(id)).toEqual({ status: 'failed', status_reason: 'content_changed', sha256: sha(bytes) });
    const changes = await stack.sql<{ type: string; payload: unknown }>('SELECT type, payload FROM change_events WHERE file_id = $1 ORDER BY seq', [id]);
    expect(changes.map((c) => c.type)).toEqual(['upload.created', 'file.uploaded', 'file.processing', 'file.ready', 'file.processing', 'file.failed']);
    expect(JSON.stringify(changes.at(-1)!.payload)).toContain('content_changed');
    await settle();
    expect(await status(id)).toBe('failed');

    // Neither the old hash (whose bytes are gone) nor the new one (never verified as this file's) is an instant upload.
    for (const body of [bytes, changed]) {
      const again = await client.call('POST', '/v1/uploads', { filename: 'again.txt', size: body.length, contentType: 'text/plain', sha256: sha(body) });
      expect(again.status).toBe(201);
      expect(again.body.deduplicated).not.toBe(true);
    }
  });
});
