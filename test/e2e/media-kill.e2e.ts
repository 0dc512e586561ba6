import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { testPresigner } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';
import { RawClient } from './upload-client';

describe('media-processor killed in the middle of a job', () => {
  let stack: E2eStack;
  let client: RawClient;

  beforeAll(async () => {
    stack = await startStack();
    const tenant = await createTenant(stack, { name: 'kill', allowedTypes: ['image/*'] });
    client = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('after a restart the job completes exactly once and leaves no orphan variant objects', async () => {
    // A large noisy photo, so rendering its variants takes long enough to be interrupted.
    const photo = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .jpeg({ quality: 90 })
      .toBuffer();
    const id = await client.upload(photo, 'big.jpg', 'image/jpeg');
    // Verification sets the hash, then hands the file to the image queue: kill the worker then.
    await until(
      'verification done',
      async () => {
        const [row] = await stack.sql<{ sha256: string | null }>('SELECT sha256 FROM files WHERE id = $1', [id]);
        return row?.sha256 ? true : null;
      },
      60_000,
      20,
    );
    await sleep(300);
    await stack.service('media-processor').stop('SIGKILL');
    const [during] = await stack.sql<{ status: string }>('SELECT status FROM files WHERE id = $1', [id]);
    expect(during.status).toBe('processing'); // interrupted mid-job, not finished

    await stack.restart('media-processor');
    // BullMQ hands the stalled job to the new worker once the dead one's lock expires.
    await until(
      'ready after restart',
      async () => {
        const [row] = await stack.sql<{ status: string }>('SELECT status FROM files WHERE id = $1', [id]);
        return row?.status === 'ready' ? true : null;
      },
      120_000,
      250,
    );
    await sleep(2_000);

    const changes = await stack.sql<{ type: string; n: string }>(
      'SELECT type, count(*) AS n FROM change_events WHERE file_id = $1 GROUP BY type ORDER BY type',
      [id],
    );
    expect(changes.find((c) => c.type === 'file.ready')?.n).toBe('1');
    const variants = await stack.sql<{ name: string }>('SELECT name FROM variants WHERE file_id = $1 ORDER BY name', [id]);
    expect(variants.map((v) => v.name)).toEqual(['preview', 'thumb']);
    const [file] = await stack.sql<{ tenant_id: string }>('SELECT tenant_id FROM files WHERE id = $1', [id]);
    const listed = await testPresigner(stack.storage).s3.send(
      new ListObjectsV2Command({ Bucket: stack.storage.S3_BUCKET, Prefix: `variants/${file.tenant_id}/${id}/` }),
    );
    // One object per variant, under its content-addressed key (<name>.<digest>).
    expect(
      (listed.Contents ?? [])
        .map((o) =>
          o
            .Key!.split('/')
            .pop()!
            .replace(/\.[0-9a-f]{16}$/, ''),
        )
        .sort(),
    ).toEqual(['preview', 'thumb']);
  });
});
