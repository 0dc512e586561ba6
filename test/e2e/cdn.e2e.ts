import sharp from 'sharp';
import { secureLinkSignature } from '@app/delivery';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

/**
 * Issue #15, acceptance 1: delivery through the local CDN (nginx in front of the bucket, as
 * `CDN=nginx npm run up` runs it). A thumbnail's link from a file list is served by the CDN, a
 * MISS then a HIT; two list calls within the window return the same link; a tampered or expired
 * link is refused; an original is never answered from the shared cache.
 */
describe('delivery through the CDN (nginx)', () => {
  let stack: E2eStack;
  let alice: RawClient;
  let bob: RawClient;
  let cdnUrl: string;

  beforeAll(async () => {
    stack = await startStack({ cdn: 'nginx' });
    cdnUrl = stack.env.CDN_BASE_URL;
    const tenant = await createTenant(stack, { name: 'cdn' });
    alice = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    bob = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'bob' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const ready = (client: RawClient, id: string) =>
    until(`${id} ready`, async () => ((await client.call('GET', `/v1/files/${id}`)).body.status === 'ready' ? true : null), 30_000, 100);

  async function aJpeg(client: RawClient, name: string): Promise<string> {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#2a6' } })
      .jpeg()
      .toBuffer();
    const id = await client.upload(jpeg, name, 'image/jpeg');
    await ready(client, id);
    return id;
  }

  it('serves a thumbnail link from the file list through the CDN: MISS, then HIT; the same link from two list calls', async () => {
    const id = await aJpeg(alice, 'photo.jpg');
    const first = (await alice.call('GET', '/v1/files')).body.items.find((f: { id: string }) => f.id === id);
    const second = (await alice.call('GET', '/v1/files')).body.items.find((f: { id: string }) => f.id === id);
    expect(first.thumbUrl).toBe(second.thumbUrl);
    expect(first.previewUrl).toBe(second.previewUrl);
    expect(first.thumbUrl.startsWith(`${cdnUrl}/variants/`)).toBe(true);
    expect(first.posterUrl).toBeNull();

    const miss = await fetch(first.thumbUrl);
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    expect(miss.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await miss.arrayBuffer());
    expect((await sharp(bytes).metadata()).format).toBe('webp');
    const hit = await fetch(first.thumbUrl);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await hit.arrayBuffer())).toEqual(bytes);

    // The download route of the variant redirects to the very same link.
    const redirect = await fetch(`${alice.baseUrl}/v1/files/${id}/content?variant=thumb`, { headers: alice.auth, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(first.thumbUrl);
  });

  it('refuses a tampered link and an expired one with 403, though the bytes are in the cache', async () => {
    const id = await aJpeg(alice, 'cached.jpg');
    const { thumbUrl } = (await alice.call('GET', `/v1/files/${id}`)).body as { thumbUrl: string };
    expect((await fetch(thumbUrl)).status).toBe(200);

    const tampered = new URL(thumbUrl);
    const signature = tampered.searchParams.get('s')!;
    tampered.searchParams.set('s', `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`);
    expect((await fetch(tampered)).status).toBe(403);

    const extended = new URL(thumbUrl);
    extended.searchParams.set('e', String(Number(extended.searchParams.get('e')) + 86_400));
    expect((await fetch(extended)).status).toBe(403);

    // A link that was valid, signed with the stack's secret, whose hour has passed.
    const expired = new URL(thumbUrl);
    const past = Math.floor(Date.now() / 1000) - 60;
    expired.searchParams.set('e', String(past));
    expired.searchParams.set('s', secureLinkSignature(expired.pathname, past, stack.env.CDN_NGINX_SECRET));
    expect((await fetch(expired)).status).toBe(403);
  });

  it('never answers an original from the shared cache: private pass-through, and no way to it for another owner', async () => {
    const id = await aJpeg(alice, 'private.jpg');
    const link = await fetch(`${alice.baseUrl}/v1/files/${id}/content`, { headers: alice.auth, redirect: 'manual' });
    expect(link.status).toBe(302);
    const location = link.headers.get('location')!;
    expect(location.startsWith(`${cdnUrl}/_origin/`)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(location);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('BYPASS');
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('jpeg');
    }
    // Bob cannot get a link, and the original's key is not served from the CDN's cached paths or unsigned.
    expect((await bob.call('GET', `/v1/files/${id}/content`)).status).toBe(404);
    const path = new URL(location).pathname.replace(/^\/_origin\/[^/]+/, '');
    expect((await fetch(`${cdnUrl}${path}`)).status).toBe(404);
    expect((await fetch(`${cdnUrl}${new URL(location).pathname}`)).status).toBe(403);
  });
});
