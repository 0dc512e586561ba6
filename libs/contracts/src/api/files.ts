import { z } from 'zod';
import { byteCount, variantName } from './common';
import { uploadStatus } from './uploads';

export const variantView = z.object({
  name: z.string(),
  contentType: z.string(),
  size: byteCount,
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  durationMs: z.number().int().optional(),
});

export const fileView = z.object({
  id: z.string().uuid(),
  filename: z.string(),
  size: byteCount,
  contentType: z.string(),
  detectedType: z.string().nullable(),
  sha256: z.string().nullable(),
  status: uploadStatus,
  createdAt: z.string().datetime(),
  readyAt: z.string().datetime().nullable(),
  width: z.number().int().nullable().describe('Images and video: displayed width'),
  height: z.number().int().nullable(),
  placeholder: z.string().nullable().describe('Images: thumbhash (base64) to show while the thumbnail loads'),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  variants: z.array(variantView),
});

export type FileView = z.infer<typeof fileView>;

export const fileList = z.object({ items: z.array(fileView), nextCursor: z.string().nullable() });

export const listFilesQuery = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
  })
  .strict();

export const contentQuery = z
  .object({
    variant: variantName.optional(),
    disposition: z.enum(['inline', 'attachment']).optional(),
  })
  .strict();
