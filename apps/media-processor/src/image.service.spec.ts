import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mediaEnv } from '@app/config';
import type { FileRecord, TenantRepository, VariantRepository } from '@app/database';
import type { FileLifecycle } from '@app/lifecycle';
import { MediaError, renderImage } from '@app/media';
import type { RenderedImage } from '@app/media';
import { KeyLayout } from '@app/storage';
import type { ObjectStorage } from '@app/storage';
import { aFile, aTenant, strictMock, callsInOrder } from '@app/testing';
import { ImageService } from './image.service';
import { IMMUTABLE, VariantStore } from './variant-store';

// swc rewrites `@app/media` to this relative path in the compiled service (jest.config.js), and jest
// matches mocks by resolved file: mocking the alias would leave the service on the real sharp.
jest.mock('../../../libs/media/src', () => ({ ...jest.requireActual('../../../libs/media/src'), renderImage: jest.fn() }));

Logger.overrideLogger(['error']);

const LIMIT = 1_000_000;
const keys = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });

const rendered: RenderedImage = {
  width: 4000,
  height: 3000,
  hasAlpha: false,
  animated: false,
  placeholder: 'KAgKDQKXh4d3h4eHd4eHh4A=',
  variants: [
    { name: 'thumb', body: Buffer.from('thumb webp'), contentType: 'image/webp', width: 256, height: 192 },
    { name: 'preview', body: Buffer.from('the preview, as webp'), contentType: 'image/webp', width: 2048, height: 1536 },
  ],
};

function setup(opts: { file?: Partial<FileRecord>; render?: () => Promise<RenderedImage>; allowSvgRendering?: boolean } = {}) {
  const file = aFile({ status: 'processing', size: 40_000n, ...opts.file });
  const config = { ...mediaEnv.parse({}), IMAGE_MAX_INPUT_BYTES: LIMIT, IMAGE_MAX_PIXELS: 50_000_000, IMAGE_TIMEOUT_SECONDS: 7 };
  const chunks = [Buffer.from('first chunk|'), Buffer.from('second chunk')];
  const render = jest.mocked(renderImage).mockReset();
  render.mockImplementation(opts.render ?? (async () => rendered));
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reread: async () => (file.status === 'processing' ? { file } : { skipped: `skipped:${file.status}` }),
    markReady: async () => ({ ...file, status: 'ready' }),
    rejectContent: async (f) => ({ ...f, status: 'rejected' }),
    fail: async (f) => ({ ...f, status: 'failed' }),
  });
  const tenants = strictMock<TenantRepository>('tenants', { find: async () => aTenant({ allowSvgRendering: opts.allowSvgRendering ?? false }) });
  const variants = strictMock<VariantRepository>('variants', { upsert: async () => undefined, keyOf: async () => null });
  const storage = strictMock<ObjectStorage>('storage', { openReadStream: async () => Readable.from(chunks), put: async () => undefined });
  // A mock has only the public members: the classes' private fields make the casts necessary.
  const service = new ImageService(config, lifecycle, new VariantStore(storage, keys, variants), storage, tenants);
  const calls = () => callsInOrder({ lifecycle, tenants, variants, storage, media: { renderImage: render } });
  const decoding = [
    ['lifecycle.reread', file.id, 'processing'],
    ['storage.openReadStream', file.storageKey],
    // The whole object, chunks joined, within the pixel limit and the time limit; never SVG.
    ['media.renderImage', Buffer.concat(chunks), { maxPixels: 50_000_000, timeoutSeconds: 7, allowSvg: false }],
  ];
  return { file, service, calls, decoding };
}

describe('ImageService', () => {
  it.each(['uploaded', 'ready', 'failed', 'rejected', 'deleted'] as const)('skips a file that is %s without reading it', async (status) => {
    const { file, service, calls } = setup({ file: { status } });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: `skipped:${status}` });
    expect(calls()).toEqual([['lifecycle.reread', file.id, 'processing']]);
  });

  it('makes an image larger than IMAGE_MAX_INPUT_BYTES ready without variants, never reading it', async () => {
    const { file, service, calls } = setup({ file: { size: BigInt(LIMIT + 1) } });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready-without-variants' });
    expect(calls()).toEqual([
      ['lifecycle.reread', file.id, 'processing'],
      ['lifecycle.markReady', file.id, {}, { variants: [] }],
    ]);
  });

  it('renders an image of exactly IMAGE_MAX_INPUT_BYTES', async () => {
    const { file, service, calls, decoding } = setup({ file: { size: BigInt(LIMIT) } });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls().slice(0, decoding.length)).toEqual(decoding);
  });

  it.each([
    ['undecodable', 'not a decodable image: Input buffer contains unsupported image format'],
    ['too_many_pixels', '20000x20000 exceeds the 50000000-pixel limit'],
  ] as const)('rejects an image sharp refuses as %s, with the code and message as the reason, writing nothing', async (code, message) => {
    const { file, service, calls, decoding } = setup({
      render: async () => {
        throw new MediaError(code, message);
      },
    });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([...decoding, ['lifecycle.rejectContent', file, `${code}: ${message}`]]);
  });

  it('fails an image whose decoding outlasts IMAGE_TIMEOUT_SECONDS, keeping its bytes, instead of retrying it', async () => {
    const message = 'decoding took longer than 7 s (timeout: 2% complete)';
    const { file, service, calls, decoding } = setup({
      render: async () => {
        throw new MediaError('timeout', message);
      },
    });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'failed' });
    expect(calls()).toEqual([...decoding, ['lifecycle.fail', file, `timeout: ${message}`]]);
  });

  it('makes an SVG ready without variants, never reading it, when its tenant does not allow SVG rendering (issue #11)', async () => {
    const { file, service, calls } = setup({ file: { detectedType: 'image/svg+xml' } });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready-without-variants' });
    expect(calls()).toEqual([
      ['lifecycle.reread', file.id, 'processing'],
      ['tenants.find', file.tenantId],
      ['lifecycle.markReady', file.id, {}, { variants: [] }],
    ]);
  });

  it('draws an SVG, within the limits, when its tenant allows SVG rendering', async () => {
    const { file, service, calls } = setup({ file: { detectedType: 'image/svg+xml' }, allowSvgRendering: true });
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toContainEqual(['media.renderImage', expect.any(Buffer), { maxPixels: 50_000_000, timeoutSeconds: 7, allowSvg: true }]);
  });

  it('lets any other error through so the job is retried, leaving the file processing', async () => {
    const crash = new Error('vips: out of memory');
    const { file, service, calls, decoding } = setup({
      render: async () => {
        throw crash;
      },
    });
    await expect(service.render({ v: 1, fileId: file.id })).rejects.toBe(crash);
    expect(calls()).toEqual(decoding);
  });

  it('stores each variant under a key naming its bytes, immutable, and records it, then marks the file ready with its dimensions and placeholder', async () => {
    const { file, service, calls, decoding } = setup();
    await expect(service.render({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    const [thumb, preview] = rendered.variants;
    const digest = (body: Buffer) => createHash('sha256').update(body).digest('hex').slice(0, 16);
    const thumbKey = `variants/${file.tenantId}/${file.id}/thumb.${digest(thumb.body)}`;
    const previewKey = `variants/${file.tenantId}/${file.id}/preview.${digest(preview.body)}`;
    expect(calls()).toEqual([
      ...decoding,
      ['storage.put', thumbKey, thumb.body, 'image/webp', { cacheControl: IMMUTABLE }],
      ['variants.keyOf', file.id, 'thumb'],
      ['variants.upsert', file.id, { name: 'thumb', storageKey: thumbKey, contentType: 'image/webp', size: thumb.body.length, width: 256, height: 192 }],
      ['storage.put', previewKey, preview.body, 'image/webp', { cacheControl: IMMUTABLE }],
      ['variants.keyOf', file.id, 'preview'],
      [
        'variants.upsert',
        file.id,
        { name: 'preview', storageKey: previewKey, contentType: 'image/webp', size: preview.body.length, width: 2048, height: 1536 },
      ],
      [
        'lifecycle.markReady',
        file.id,
        { width: 4000, height: 3000, placeholder: rendered.placeholder },
        { width: 4000, height: 3000, variants: ['thumb', 'preview'] },
      ],
    ]);
  });
});
