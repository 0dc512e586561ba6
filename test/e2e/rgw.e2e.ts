import { createHash, randomBytes } from 'node:crypto';
import { fromBytes, UploadClient } from '@app/sdk';
import sharp from 'sharp';
import { createTenant, E2eStack, startStack, until } from './stack';

const MiB = 1024 ** 2;
const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Issue #12: the upload path on a storage that enforces what S3 enforces (Ceph RGW: signatures,
 * expiry, signed headers), its events pushed over HTTP to chunk-tracker (ADR 0018) instead of
 * read from SQS. The same services and the same SDK as on moto.
 */
describe('the whole upload path on Ceph RGW, events pushed over HTTP', () => {
  let stack: E2eStack;
  let apiUrl: string;
  let apiKey: string;
  let client: UploadClient;

  beforeAll(async () => {
    stack = await startStack({ storage: 'rgw' });
    apiUrl = stack.service('upload-api').url;
    ({ apiKey } = await createTenant(stack, { name: 'rgw', quotaBytes: 10 * 1024 ** 3 }));
    client = new UploadClient({ baseUrl: apiUrl, token: apiKey, ownerId: 'alice' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const download = async (id: string, variant?: string) =>
    fetch(`${apiUrl}/v1/files/${id}/content${variant ? `?variant=${variant}` : ''}`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'alice' } });
  const ready = (id: string) =>
    until(
      `${id} ready`,
      async () => {
        const [row] = await stack.sql<{ status: string }>('SELECT status::text AS status FROM files WHERE id = $1', [id]);
        return row?.status === 'ready' || row?.status === 'rejected' || row?.status === 'failed' ? row.status : null;
      },
      60_000,
    );

  it('chunk-tracker reads no queue: it is ready without SQS, on its push route', async () => {
    const ready = await stack.service('chunk-tracker').readiness();
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.details)).not.toContain('sqs');
  });

  it('a single PUT: signed, pushed, verified, ready; the download hashes to the source', async () => {
    const bytes = Buffer.from('bytes on a storage that checks signatures\n');
    const { id } = await client.upload(fromBytes(bytes), { filename: 'note.txt', contentType: 'text/plain' }).done;
    expect(await ready(id)).toBe('ready');
    const [row] = await stack.sql<{ sha256: string; event_name: string }>(
      `SELECT f.sha256, e.event_name FROM files f JOIN processed_storage_events e ON e.file_id = f.id WHERE f.id = $1`,
      [id],
    );
    expect(row.sha256).toBe(sha(bytes));
    expect(row.event_name).toMatch(/ObjectCreated/);
    expect(sha(Buffer.from(await (await download(id)).arrayBuffer()))).toBe(sha(bytes));
  });

  it('a multipart upload paused at its first part and resumed by another client sends only what storage lacks, then completes', async () => {
    const bytes = randomBytes(20 * MiB); // past MULTIPART_THRESHOLD_BYTES (16 MiB): three parts of at most 8 MiB
    let id: string | null = null;
    const first = client.upload(fromBytes(bytes), {
      filename: 'big.bin',
      concurrency: 1,
      onProgress: (p) => {
        if (p.partsDone >= 1) first.pause();
      },
    });
    await until('the first part stored', async () => {
      id = first.id;
      if (!id) return false;
      const view = await (await fetch(`${apiUrl}/v1/uploads/${id}`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'alice' } })).json();
      return view.uploadedParts?.length >= 1 ? view : false;
    });
    const reports: number[] = [];
    const resumed = await new UploadClient({ baseUrl: apiUrl, token: apiKey, ownerId: 'alice' }).resume(id!, fromBytes(bytes), {
      onProgress: (p) => reports.push(p.partsDone),
    }).done;
    // It began from the parts storage listed: the first report already counts them.
    expect(reports[0]).toBeGreaterThanOrEqual(1);
    expect(resumed.id).toBe(id);
    expect(await ready(id!)).toBe('ready');
    const [file] = await stack.sql<{ sha256: string; part_count: number }>('SELECT sha256, part_count FROM files WHERE id = $1', [id]);
    expect(file.sha256).toBe(sha(bytes));
    expect(file.part_count).toBeGreaterThan(1);
    expect(sha(Buffer.from(await (await download(id!)).arrayBuffer()))).toBe(sha(bytes));
  });

  it("an image gets its variants, and the owner's change feed tells every step in order", async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#2a7' } })
      .png()
      .toBuffer();
    const { id } = await client.upload(fromBytes(png), { filename: 'photo.png', contentType: 'image/png' }).done;
    expect(await ready(id)).toBe('ready');
    const variants = await stack.sql<{ name: string }>('SELECT name FROM variants WHERE file_id = $1 ORDER BY name', [id]);
    expect(variants.map((v) => v.name)).toEqual(['preview', 'thumb']);
    expect((await download(id, 'thumb')).status).toBe(200);

    const feed = await (
      await fetch(`${stack.service('sync-notifier').url}/v1/changes?limit=1000`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'alice' } })
    ).json();
    const mine = (feed.changes as Array<{ type: string; fileId: string }>).filter((c) => c.fileId === id).map((c) => c.type);
    expect(mine).toEqual(['upload.created', 'file.uploaded', 'file.processing', 'file.ready']);
  });

  it('a push without the secret answers 401 and records nothing', async () => {
    const before = await stack.sql<{ n: string }>('SELECT count(*) AS n FROM processed_storage_events');
    const forged = {
      Records: [
        {
          eventVersion: '2.2',
          eventSource: 'ceph:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: stack.storage.S3_BUCKET }, object: { key: 'uploads/x/y', size: 1, eTag: 'e' } },
        },
      ],
    };
    for (const query of ['', '?access_token=not-the-secret-not-the-secret-00000']) {
      const res = await fetch(`${stack.service('chunk-tracker').url}/v1/storage-events${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(forged),
      });
      expect(res.status).toBe(401);
    }
    expect(await stack.sql('SELECT count(*) AS n FROM processed_storage_events')).toEqual(before);
  });
});
