import { createVerify, generateKeyPairSync } from 'node:crypto';
import { cdnEnv, ConfigError } from '@app/config';
import { FastPresigner } from '@app/storage';
import { createDeliveryLinks } from './delivery.module';
import { stableExpiry } from './delivery-links';
import { secureLinkSignature } from './nginx-links';

const presigner = new FastPresigner({
  bucket: 'uploads',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:5055',
  forcePathStyle: true,
  credentials: { accessKeyId: 'dev', secretAccessKey: 'dev-secret' },
  expiresInSeconds: 900,
});
const KEY = 'variants/0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b/9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f/thumb.0123456789abcdef';
const ORIGINAL = 'uploads/0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b/9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';
const SECRET = 'a-secure-link-secret-of-32-characters';
const at = (iso: string) => () => new Date(iso);
const config = (env: Record<string, string>) => cdnEnv.parse({ CDN_LINK_WINDOW_SECONDS: '3600', CDN_VARIANT_LINK_SECONDS: '3600', ...env });

describe('stableExpiry', () => {
  it('is the end of the window holding now + the shortest life: the same instant all window long', () => {
    const min = 3600;
    expect(stableExpiry(new Date('2026-12-07T10:00:00Z'), min, 3600).toISOString()).toBe('2026-12-07T11:00:00.000Z');
    expect(stableExpiry(new Date('2026-12-07T10:00:01Z'), min, 3600).toISOString()).toBe('2026-12-07T12:00:00.000Z');
    expect(stableExpiry(new Date('2026-12-07T10:59:59Z'), min, 3600).toISOString()).toBe('2026-12-07T12:00:00.000Z');
  });
});

describe('DeliveryLinks', () => {
  it('nginx: a variant link is secure_link-signed, the same within a window and new in the next', async () => {
    const links = (now: string) =>
      createDeliveryLinks(config({ CDN: 'nginx', CDN_BASE_URL: 'http://127.0.0.1:8089', CDN_NGINX_SECRET: SECRET }), presigner, at(now));
    const first = await links('2026-12-07T10:00:05Z').variant(KEY);
    const same = await links('2026-12-07T10:59:00Z').variant(KEY);
    const next = await links('2026-12-07T11:00:05Z').variant(KEY);
    expect(same.url).toBe(first.url);
    expect(next.url).not.toBe(first.url);
    const url = new URL(first.url);
    expect(url.origin + url.pathname).toBe(`http://127.0.0.1:8089/${KEY}`);
    const expires = Number(url.searchParams.get('e'));
    expect(expires).toBe(Date.parse('2026-12-07T12:00:00Z') / 1000);
    expect(url.searchParams.get('s')).toBe(secureLinkSignature(url.pathname, expires, SECRET));
    expect(url.searchParams.get('s')).not.toBe(secureLinkSignature(url.pathname, expires, `${SECRET}x`));
  });

  it('nginx: an original goes through the uncached pass-through as storage’s own presigned GET', async () => {
    const links = createDeliveryLinks(config({ CDN: 'nginx', CDN_BASE_URL: 'http://127.0.0.1:8089/', CDN_NGINX_SECRET: SECRET }), presigner);
    const { url } = await links.original(ORIGINAL, { contentDisposition: 'attachment; filename="a.txt"', contentType: 'text/plain' });
    const parsed = new URL(url);
    expect(parsed.origin).toBe('http://127.0.0.1:8089');
    expect(parsed.pathname).toBe(`/_origin/uploads/${ORIGINAL}`);
    expect(parsed.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(parsed.searchParams.get('response-content-disposition')).toBe('attachment; filename="a.txt"');
    expect(parsed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('cloudfront: canned-policy signed URLs the distribution’s public key verifies; variants stable within a window', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const env = { CDN: 'cloudfront', CDN_BASE_URL: 'https://d111111abcdef8.cloudfront.net', CDN_CLOUDFRONT_KEY_PAIR_ID: 'K2JCJMDEHXQW5F' };
    // Env files often carry a PEM with escaped newlines.
    const links = (now: string) => createDeliveryLinks(config({ ...env, CDN_CLOUDFRONT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') }), presigner, at(now));
    const first = await links('2026-12-07T10:00:05Z').variant(KEY);
    expect((await links('2026-12-07T10:30:00Z').variant(KEY)).url).toBe(first.url);
    const url = new URL(first.url);
    expect(url.searchParams.get('Key-Pair-Id')).toBe('K2JCJMDEHXQW5F');
    const expires = Number(url.searchParams.get('Expires'));
    expect(expires).toBe(Date.parse('2026-12-07T12:00:00Z') / 1000);
    // CloudFront's canned policy, and its URL-safe base64 of the RSA-SHA1 signature.
    const policy = JSON.stringify({
      Statement: [{ Resource: `https://d111111abcdef8.cloudfront.net/${KEY}`, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }],
    });
    const signature = Buffer.from(url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    expect(
      createVerify('RSA-SHA1')
        .update(policy)
        .verify(publicKey.export({ type: 'spki', format: 'pem' }).toString(), signature),
    ).toBe(true);

    const original = new URL((await links('2026-12-07T10:00:05Z').original(ORIGINAL, { contentDisposition: 'inline', contentType: 'image/png' })).url);
    expect(original.searchParams.get('response-content-type')).toBe('image/png');
    expect(Number(original.searchParams.get('Expires'))).toBe(Date.parse('2026-12-07T10:05:05Z') / 1000);
  });

  it('none: a variant is a presigned GET signed as at the start of its window, so it too stays the same', async () => {
    const links = (now: string) => createDeliveryLinks(config({ CDN: 'none' }), presigner, at(now));
    const first = await links('2026-12-07T10:00:05Z').variant(KEY);
    expect((await links('2026-12-07T10:59:59Z').variant(KEY)).url).toBe(first.url);
    const url = new URL(first.url);
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261207T100000Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('7200');
    expect(first.expiresAt.toISOString()).toBe('2026-12-07T12:00:00.000Z');
  });

  it('refuses at boot a CDN without what its links need, naming the variables', () => {
    expect(() => createDeliveryLinks(config({ CDN: 'nginx' }), presigner)).toThrow(ConfigError);
    expect(() => createDeliveryLinks(config({ CDN: 'nginx', CDN_BASE_URL: 'http://cdn' }), presigner)).toThrow(/CDN_NGINX_SECRET: required with CDN=nginx/);
    expect(() => createDeliveryLinks(config({ CDN: 'cloudfront', CDN_BASE_URL: 'https://cdn' }), presigner)).toThrow(
      /CDN_CLOUDFRONT_KEY_PAIR_ID: required[\s\S]*CDN_CLOUDFRONT_PRIVATE_KEY: required/,
    );
    expect(() => createDeliveryLinks(config({ CDN: 'none', CDN_VARIANT_LINK_SECONDS: String(7 * 24 * 3600) }), presigner)).toThrow(/at most 604800/);
  });
});
