import { z } from 'zod';
import { FILE_STATUSES } from '../file-status';
import { byteCount, variantName } from './common';
import { filename, uploadStatus } from './uploads';

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
  scan: z
    .enum(['clean', 'skipped_too_large'])
    .nullable()
    .describe(
      'The malware scan: clean, skipped_too_large (larger than the scanner takes, and the tenant lets such files through), or null when not scanned (the tenant scans nothing, or not yet)',
    ),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  variants: z.array(variantView),
  thumbUrl: z
    .string()
    .url()
    .nullable()
    .describe(
      'Images: a ready-to-use link to the thumbnail (256 px), through the CDN when one is configured. The same within a window (CDN_LINK_WINDOW_SECONDS), so browsers and the CDN cache it; null when the file has none',
    ),
  previewUrl: z.string().url().nullable().describe('Images: a link to the preview (2048 px), like thumbUrl'),
  posterUrl: z.string().url().nullable().describe('Videos: a link to the poster frame, like thumbUrl'),
});

export type FileView = z.infer<typeof fileView>;

export const fileList = z.object({ items: z.array(fileView), nextCursor: z.string().nullable() });

const statusName = `(${FILE_STATUSES.join('|')})`;

/** An ISO-8601 date-time with `Z` or an offset, naming a day the calendar has (no 30 February). */
const dateTime = z.iso.datetime({ offset: true }).refine((v) => {
  const day = v.slice(0, 10);
  return !Number.isNaN(Date.parse(v)) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}, 'must be a date-time that exists');

/**
 * `GET /v1/files`: keyset paging, and filters that all apply together (issue #13). A cursor is
 * bound to the filters it was issued with: sent with other filters it is a 400.
 */
export const listFilesQuery = z
  .object({
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page, sent with the same filters'),
    limit: z.coerce.number().int().min(1).max(100).optional(),
    status: z
      .string()
      .max(200)
      .regex(new RegExp(`^${statusName}(,${statusName})*$`), 'must be one status or a comma list of statuses')
      .optional()
      .describe('One status or a comma list (ready,failed). The list holds stored files only: uploaded, processing, ready, failed'),
    contentType: z
      .string()
      .max(255)
      .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/([a-z0-9][a-z0-9!#$&^_.+-]*|\*)?$/i, 'must be a MIME type (image/png) or a prefix of one (image/ or image/*)')
      .optional()
      .describe('The declared content type: exact (image/png) or a type prefix (image/ or image/*); case-insensitive'),
    filename: filename
      .refine((v) => v.isWellFormed(), 'must be valid Unicode')
      .optional()
      .describe('Filename prefix, case-insensitive (Report matches report-2026.pdf)'),
    createdAfter: dateTime.optional().describe('Files created at or after this time (ISO 8601)'),
    createdBefore: dateTime.optional().describe('Files created before this time (ISO 8601)'),
  })
  .strict()
  .refine((q) => !q.createdAfter || !q.createdBefore || Date.parse(q.createdAfter) <= Date.parse(q.createdBefore), {
    message: 'createdAfter must not be later than createdBefore',
    path: ['createdBefore'],
  });

export type ListFilesQuery = z.infer<typeof listFilesQuery>;

export const contentQuery = z
  .object({
    variant: variantName.optional(),
    disposition: z.enum(['inline', 'attachment']).optional(),
  })
  .strict();
