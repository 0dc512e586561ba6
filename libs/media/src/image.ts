import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

/** Raster types libvips decodes here; anything else is left without variants. */
export const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

export class MediaError extends Error {
  constructor(
    readonly code: 'too_many_pixels' | 'undecodable' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface RenderedVariant {
  name: 'thumb' | 'preview';
  body: Buffer;
  contentType: string;
  width: number;
  height: number;
}

export interface RenderedImage {
  /** Dimensions as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  hasAlpha: boolean;
  animated: boolean;
  placeholder: string;
  variants: RenderedVariant[];
}

const SIZES = { thumb: { edge: 256, quality: 78 }, preview: { edge: 2048, quality: 82 } } as const;

/** sharp's names of the raster formats of IMAGE_TYPES (AVIF is read by the heif loader). */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff']);

/**
 * The longest edge an SVG is drawn at. SVG cost grows with the area drawn, not the file: a
 * 268-byte SVG of filters held a worker 13 s at 2048 px (issue #11); at 1024 px it is a quarter.
 * The drawing density is lowered to fit, so the declared size never decides the work.
 */
const SVG_MAX_EDGE = 1024;

/** Default of IMAGE_TIMEOUT_SECONDS, for callers outside the services (benchmarks). */
export const DEFAULT_IMAGE_TIMEOUT_SECONDS = 15;

export interface RenderOptions {
  /** Decompression-bomb guard (IMAGE_MAX_PIXELS). */
  maxPixels: number;
  /** Each sharp pipeline is abandoned after this long (IMAGE_TIMEOUT_SECONDS); whole seconds, as libvips counts. */
  timeoutSeconds?: number;
  /** Draw SVG (the tenant opted in); otherwise SVG content is refused like any format not rendered here. */
  allowSvg?: boolean;
}

/**
 * Thumbnail, preview and a thumbhash placeholder with sharp (libvips). EXIF orientation is
 * applied and metadata stripped (sharp's default output keeps none); alpha is kept (WebP);
 * animated images become a still of their first frame. `limitInputPixels` refuses decompression
 * bombs from the header, before any pixel is decoded. Decoding has a time limit (issue #11):
 * sharp's `timeout` has libvips abandon a pipeline that runs too long, freeing its threads, and a
 * deadline over the whole render fails it on time even where libvips notices late.
 *
 * sharp picks its loader from the bytes, not from the type verification named, so the format it
 * finds must be one rendered here: SVG, PDF or anything else libvips reads is refused unless
 * allowed (issue #11).
 */
export async function renderImage(input: Buffer, opts: RenderOptions): Promise<RenderedImage> {
  const seconds = opts.timeoutSeconds ?? DEFAULT_IMAGE_TIMEOUT_SECONDS;
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: opts.maxPixels, failOn: 'error', animated: false }).metadata();
  } catch (error) {
    const message = (error as Error).message;
    // sharp refuses a decompression bomb already here, from the header (limitInputPixels).
    if (/pixel limit/i.test(message)) throw new MediaError('too_many_pixels', message);
    throw new MediaError('undecodable', `not a decodable image: ${message}`);
  }
  const svg = meta.format === 'svg';
  if (svg ? !opts.allowSvg : !RASTER_FORMATS.has(meta.format)) {
    throw new MediaError('undecodable', `${meta.format} content is not rendered here`);
  }
  if ((meta.width ?? 0) * (meta.height ?? 0) > opts.maxPixels) {
    throw new MediaError('too_many_pixels', `${meta.width}x${meta.height} exceeds the ${opts.maxPixels}-pixel limit`);
  }
  // SVG is drawn at a density that fits SVG_MAX_EDGE (72 dpi is its declared size, never more).
  const density = svg ? Math.max(1, Math.min(72, (72 * SVG_MAX_EDGE) / Math.max(meta.width ?? 1, meta.height ?? 1, 1))) : undefined;
  const open = () => sharp(input, { limitInputPixels: opts.maxPixels, failOn: 'error', animated: false, ...(density && { density }) }).timeout({ seconds });
  // libvips checks its timeout between the regions it computes, and librsvg draws a region of
  // filters in one go: a crafted SVG ran 5 s past a 1 s timeout. The deadline below ends the job
  // on time regardless, and libvips drops the work at its next check.
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new MediaError('timeout', `decoding took longer than ${seconds} s`));
    }, seconds * 1000);
  });
  try {
    return await Promise.race([draw(meta, open, () => expired), deadline]);
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const message = (error as Error).message;
    // libvips' own words when sharp's timeout killed the pipeline: "timeout: 2% complete".
    if (/^timeout\b/i.test(message)) throw new MediaError('timeout', `decoding took longer than ${seconds} s (${message.split('\n')[0]})`);
    throw new MediaError(/pixel limit/i.test(message) ? 'too_many_pixels' : 'undecodable', message);
  } finally {
    clearTimeout(timer);
  }
}

/** The variants and the placeholder; stops between pipelines once the deadline has passed. */
async function draw(meta: sharp.Metadata, open: () => sharp.Sharp, expired: () => boolean): Promise<RenderedImage> {
  const variants = await Promise.all(
    (Object.entries(SIZES) as Array<[RenderedVariant['name'], (typeof SIZES)[keyof typeof SIZES]]>).map(async ([name, size]) => {
      const { data, info } = await open()
        .rotate()
        .resize(size.edge, size.edge, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: size.quality, alphaQuality: 90 })
        .toBuffer({ resolveWithObject: true });
      return { name, body: data, contentType: 'image/webp', width: info.width, height: info.height };
    }),
  );
  if (expired()) throw new MediaError('timeout', 'abandoned after the deadline');
  const small = await open().rotate().resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const placeholder = Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64');
  const rotated = (meta.orientation ?? 1) >= 5;
  return {
    width: rotated ? meta.height : meta.width,
    height: rotated ? meta.width : meta.height,
    hasAlpha: meta.hasAlpha ?? false,
    animated: (meta.pages ?? 1) > 1,
    placeholder,
    variants,
  };
}

/** The pixel size an encoded image declares in its header (nothing is decoded). */
export async function imageDimensions(input: Buffer): Promise<{ width?: number; height?: number }> {
  const { width, height } = await sharp(input).metadata();
  return { width, height };
}
