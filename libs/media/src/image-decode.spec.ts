import sharp from 'sharp';
import { MediaError, renderImage } from './image';

const LIMIT = 100_000_000;

/** The shape: a few hundred bytes declaring 9990x9990, with filters that cost CPU per pixel drawn. */
function svgOfFilters(layers: number): Buffer {
  const layer = '<rect width="100%" height="100%" filter="url(#f)"/>';
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="9990" height="9990"><filter id="f"><feTurbulence baseFrequency=".9" numOctaves="9"/><feGaussianBlur stdDeviation="99"/></filter>${layer.repeat(layers)}</svg>`,
  );
}

const SVG_WITH_SCRIPT = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><script>alert(1)</script><rect width="10" height="10"/></svg>',
);

describe('renderImage time limit and SVG (issue #11)', () => {
  it('fails a render that outlasts its time limit with `timeout`, on time, even where libvips checks late', async () => {
    const started = Date.now();
    // Eight layers of filters take seconds at 1024 px; libvips alone noticed its 1 s timeout after 5 s.
    await expect(renderImage(svgOfFilters(8), { maxPixels: LIMIT, timeoutSeconds: 1, allowSvg: true })).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('never draws SVG content unless allowed, whatever type it was routed as', async () => {
    const started = Date.now();
    const refused = renderImage(svgOfFilters(1), { maxPixels: LIMIT, timeoutSeconds: 30 });
    await expect(refused).rejects.toBeInstanceOf(MediaError);
    await expect(refused).rejects.toMatchObject({ code: 'undecodable', message: 'svg content is not rendered here' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('draws an allowed SVG no larger than 1024 px, whatever size it declares, reporting the declared size', async () => {
    const huge = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9990" height="4995"><rect width="100%" height="100%" fill="#c33"/></svg>');
    const out = await renderImage(huge, { maxPixels: LIMIT, timeoutSeconds: 30, allowSvg: true });
    expect([out.width, out.height]).toEqual([9990, 4995]);
    expect(out.variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['thumb', 256, 128],
      ['preview', 1024, 512],
    ]);
    const small = await renderImage(SVG_WITH_SCRIPT, { maxPixels: LIMIT, timeoutSeconds: 30, allowSvg: true });
    expect((await sharp(small.variants[1].body).metadata()).format).toBe('webp'); // a raster: the script is gone
    expect([small.variants[1].width, small.variants[1].height]).toEqual([640, 480]); // never enlarged
  });
});
