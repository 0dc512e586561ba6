import { z } from 'zod';

/** Largest object S3 stores (5 TiB); no tenant limit can exceed it. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** Byte counts travel as JSON integers; 2^53 covers every size this platform handles. */
export const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A MIME type pattern: `type/subtype`, `type/*` or `*\/*`. */
export const mimePattern = z
  .string()
  .max(255)
  .regex(/^(\*\/\*|[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*))$/i, 'must look like type/subtype, type/* or */*');

/** A variant's name (thumb, preview, poster, video720...): also a storage key segment. */
export const variantName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be a variant name such as thumb or poster');

/** Owner ids are the calling team's user ids: opaque, bounded, printable. */
export const ownerId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@|-]+$/, 'may contain letters, digits and . _ : @ | - only');
