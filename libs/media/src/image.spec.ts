import sharp from 'sharp';
import { deflateSync } from 'node:zlib';
import { MediaError, renderImage } from './image';

const LIMIT = { maxPixels: 100_000_000 };

/** A PNG whose header claims width x height, with one tiny IDAT: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('renderImage', () => {
  it('applies EXIF orientation: a 400x200 JPEG tagged orientation 6 becomes portrait', async () => {
    const jpeg = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#c33' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await renderImage(jpeg, LIMIT);
    expect([out.width, out.height]).toEqual([200, 400]);
    const thumb = out.variants.find((v) => v.name === 'thumb')!;
    expect([thumb.width, thumb.height]).toEqual([128, 256]);
    const meta = await sharp(thumb.body).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.orientation).toBeUndefined(); // metadata stripped, pixels already upright
    expect(meta.exif).toBeUndefined();
    expect(out.placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('keeps alpha', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.3 } } })
      .png()
      .toBuffer();
    const out = await renderImage(png, LIMIT);
    expect(out.hasAlpha).toBe(true);
    for (const v of out.variants) expect((await sharp(v.body).metadata()).hasAlpha).toBe(true);
  });

  it('never enlarges small images', async () => {
    const png = await sharp({ create: { width: 10, height: 5, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const out = await renderImage(png, LIMIT);
    expect(out.variants.map((v) => [v.width, v.height])).toEqual([
      [10, 5],
      [10, 5],
    ]);
  });

  it('refuses a 20000x20000 PNG from its header, quickly and without decoding it', async () => {
    const started = Date.now();
    await expect(renderImage(pngClaiming(20_000, 20_000), LIMIT)).rejects.toMatchObject({ code: 'too_many_pixels' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rejects bytes that are not a decodable image', async () => {
    await expect(renderImage(Buffer.from('definitely not an image'), LIMIT)).rejects.toBeInstanceOf(MediaError);
    const truncated = (
      await sharp({ create: { width: 300, height: 300, channels: 3, background: '#0f0' } })
        .jpeg()
        .toBuffer()
    ).subarray(0, 200);
    await expect(renderImage(truncated, LIMIT)).rejects.toMatchObject({ code: 'undecodable' });
  });

  it('makes a still of the first frame of an animated image', async () => {
    const frames = sharp({ create: { width: 32, height: 96, channels: 4, background: '#f0f' } }).gif();
    const gif = await sharp(await frames.toBuffer(), { animated: true }).toBuffer();
    const out = await renderImage(gif, LIMIT);
    expect(out.variants[0].contentType).toBe('image/webp');
    expect((await sharp(out.variants[0].body).metadata()).pages ?? 1).toBe(1);
  });
});
