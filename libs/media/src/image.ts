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

/**
 * Thumbnail, preview and a thumbhash placeholder with sharp (libvips). EXIF orientation is
 * applied and metadata stripped (sharp's default output keeps none); alpha is kept (WebP);
 * animated images become a still of their first frame. `limitInputPixels` refuses decompression
 * bombs from the header, before any pixel is decoded.
 */
export async function renderImage(input: Buffer, opts: { maxPixels: number }): Promise<RenderedImage> {
  const open = () => sharp(input, { limitInputPixels: opts.maxPixels, failOn: 'error', animated: false });
  let meta: sharp.Metadata;
  try {
    meta = await open().metadata();
  } catch (error) {
    const message = (error as Error).message;
    // sharp refuses a decompression bomb already here, from the header (limitInputPixels).
    if (/pixel limit/i.test(message)) throw new MediaError('too_many_pixels', message);
    throw new MediaError('undecodable', `not a decodable image: ${message}`);
  }
  if ((meta.width ?? 0) * (meta.height ?? 0) > opts.maxPixels) {
    throw new MediaError('too_many_pixels', `${meta.width}x${meta.height} exceeds the ${opts.maxPixels}-pixel limit`);
  }
  try {
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
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const message = (error as Error).message;
    throw new MediaError(/pixel limit/i.test(message) ? 'too_many_pixels' : 'undecodable', message);
  }
}

/** The pixel size an encoded image declares in its header (nothing is decoded). */
export async function imageDimensions(input: Buffer): Promise<{ width?: number; height?: number }> {
  const { width, height } = await sharp(input).metadata();
  return { width, height };
}
