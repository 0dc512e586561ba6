import { randomBytes } from 'node:crypto';
import { cdnEnv } from '@app/config';
import { createDeliveryLinks, DeliveryLinks } from '@app/delivery';
import { ObjectStorage } from '@app/storage';
import { createTestStorage, freePort, PrivateNginx, StorageTestEnv, testConfig, testPresigner } from '@app/testing';

const SECRET = 'integration-secure-link-secret-0123456789';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * nginx as the CDN (Debian's nginx-light, deploy/nginx/nginx.conf.template) in front of a real
 * bucket (moto), with links from the delivery library: the cache, secure_link, and the uncached
 * pass-through of originals (issue #15).
 */
describe('nginx CDN in front of the bucket', () => {
  let env: StorageTestEnv;
  let storage: ObjectStorage;
  let nginx: PrivateNginx;
  let links: (now?: () => Date) => DeliveryLinks;
  let destroy: () => void;
  const tenant = '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';

  beforeAll(async () => {
    // The bucket's policy lets the CDN's address read the variants (docs/adr/0024), nothing else.
    env = await createTestStorage(testConfig().TEST_MOTO_URL, { cdn: { CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: ['127.0.0.1/32'] } });
    const { s3, presigner } = testPresigner(env);
    destroy = () => s3.destroy();
    storage = new ObjectStorage(s3, env.S3_BUCKET);
    nginx = new PrivateNginx({ port: await freePort(), secret: SECRET, s3: env });
    await nginx.start();
    const config = cdnEnv.parse({ CDN: 'nginx', CDN_BASE_URL: nginx.baseUrl, CDN_NGINX_SECRET: SECRET });
    links = (now) => createDeliveryLinks(config, presigner, now);
  });
  afterAll(async () => {
    await nginx?.dispose();
    destroy?.();
  });

  async function aVariant(): Promise<{ key: string; bytes: Buffer }> {
    const bytes = randomBytes(2048);
    const key = `variants/${tenant}/${crypto.randomUUID()}/thumb.${randomBytes(8).toString('hex')}`;
    await storage.put(key, bytes, 'image/webp', { cacheControl: IMMUTABLE });
    return { key, bytes };
  }

  it('serves a variant from storage first (MISS), then from its cache (HIT), with storage’s immutable Cache-Control', async () => {
    const { key, bytes } = await aVariant();
    const { url } = await links().variant(key);
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await first.arrayBuffer())).toEqual(bytes);
    const second = await fetch(url);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await second.arrayBuffer())).toEqual(bytes);
  });

  it('serves the next window’s link to the same variant from the same cache entry', async () => {
    const { key } = await aVariant();
    const now = Date.now();
    const thisWindow = (await links(() => new Date(now)).variant(key)).url;
    const nextWindow = (await links(() => new Date(now + 3_600_000)).variant(key)).url;
    expect(nextWindow).not.toBe(thisWindow);
    expect((await fetch(thisWindow)).headers.get('x-cache')).toBe('MISS');
    expect((await fetch(nextWindow)).headers.get('x-cache')).toBe('HIT');
  });

  it('refuses a tampered link, another variant’s signature and an expired link with 403, cached or not', async () => {
    const { key } = await aVariant();
    const other = await aVariant();
    const { url } = await links().variant(key);
    expect((await fetch(url)).status).toBe(200); // now in the cache

    const tampered = new URL(url);
    tampered.searchParams.set('s', `${tampered.searchParams.get('s')!.slice(0, -2)}AA`);
    expect((await fetch(tampered)).status).toBe(403);

    const longer = new URL(url);
    longer.searchParams.set('e', String(Number(longer.searchParams.get('e')) + 3600));
    expect((await fetch(longer)).status).toBe(403);

    const borrowed = new URL((await links().variant(other.key)).url);
    borrowed.pathname = new URL(url).pathname;
    expect((await fetch(borrowed)).status).toBe(403);

    expect((await fetch(new URL(url).origin + new URL(url).pathname)).status).toBe(403);

    const expired = (await links(() => new Date(Date.now() - 3 * 3_600_000)).variant(key)).url;
    expect(Number(new URL(expired).searchParams.get('e')) * 1000).toBeLessThan(Date.now());
    expect((await fetch(expired)).status).toBe(403);
  });

  // The disposition is under storage's signature (delivery-links.spec.ts); S3 and RGW apply it, moto ignores it.
  it('passes an original’s presigned GET through uncached, and only while storage accepts it', async () => {
    const key = `uploads/${tenant}/${crypto.randomUUID()}`;
    const bytes = randomBytes(4096);
    await storage.put(key, bytes, 'application/pdf');
    const { url } = await links().original(key, { contentDisposition: 'attachment; filename="report.pdf"', contentType: 'application/pdf' });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('BYPASS');
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    }
  });

  it('reaches nothing of the bucket but signed variants and presigned originals', async () => {
    const key = `uploads/${tenant}/${crypto.randomUUID()}`;
    await storage.put(key, randomBytes(16), 'text/plain');
    expect((await fetch(`${nginx.baseUrl}/${key}`)).status).toBe(404);
    expect((await fetch(`${nginx.baseUrl}/quarantine/${tenant}/x`)).status).toBe(404);
    expect((await fetch(`${nginx.baseUrl}/_origin/${env.S3_BUCKET}/${key}`)).status).toBe(403); // storage: no signature
    const { url } = await links().variant((await aVariant()).key);
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
  });
});
