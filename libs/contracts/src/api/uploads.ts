import { z } from 'zod';
import { FILE_STATUSES } from '../file-status';
import { byteCount, MAX_OBJECT_BYTES } from './common';

/** S3 multipart limits (docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const MIN_PART_BYTES = 5 * 1024 ** 2;
export const MAX_PART_BYTES = 5 * 1024 ** 3;
export const MAX_PARTS = 10_000;
/** Largest part-URL batch one call signs. */
export const MAX_PART_URLS_PER_CALL = 1_000;
export const MAX_METADATA_BYTES = 4 * 1024;

// C0 and C1 controls and DEL: never in a filename (they break headers, logs and terminals).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const filename = z
  .string()
  .min(1)
  .refine((v) => Buffer.byteLength(v, 'utf8') <= 255, 'must be at most 255 bytes in UTF-8')
  .refine((v) => !CONTROL.test(v), 'must not contain control characters')
  .refine((v) => v.trim().length > 0, 'must not be blank');

export const contentType = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'must be a MIME type such as image/jpeg')
  .transform((v) => v.toLowerCase());

/** SHA-256 of the whole file, hex (64) or base64 (44). Normalised to hex. */
export const sha256Digest = z
  .string()
  .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be a SHA-256 digest in hex or base64')
  .transform((v) => (v.length === 64 ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex')));

const metadata = z
  .record(z.string().max(128), z.unknown())
  .refine((v) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);

export const createUploadBody = z
  .object({
    filename,
    size: byteCount.max(MAX_OBJECT_BYTES),
    contentType,
    sha256: sha256Digest.optional().describe('SHA-256 of the whole file; verified against the stored bytes'),
    checksum: z.enum(['sha256']).optional().describe('Multipart only: parts will carry x-amz-checksum-sha256, checked by storage'),
    metadata: metadata.optional().describe('Free-form JSON kept with the file (at most 4 KiB)'),
    partSize: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .max(MAX_PART_BYTES)
      .optional()
      .describe(
        'The part size the client will send (5 MiB to 5 GiB, at most 10,000 parts): the upload is then multipart and its plan uses this size. Optional: a client may send parts of any size of at least 5 MiB (the last smaller) without declaring it',
      ),
    initialPartUrls: z
      .number()
      .int()
      .min(0)
      .max(MAX_PART_URLS_PER_CALL)
      .optional()
      .describe('Multipart: how many part URLs the answer carries (default 100); 0 for clients that sign part by part'),
    form: z
      .boolean()
      .optional()
      .describe(
        'Also answer an S3 POST policy (`form`) for a browser form upload: the upload is then single (at most 5 GiB, not with partSize), and either the PUT or the form POST may carry it',
      ),
  })
  .strict()
  .meta({
    examples: [
      { filename: 'holiday.jpg', size: 48213, contentType: 'image/jpeg' },
      { filename: 'interview.mp4', size: 2147483648, contentType: 'video/mp4', checksum: 'sha256', metadata: { album: 'press' } },
      { filename: 'drone.mov', size: 62914560, contentType: 'video/quicktime', partSize: 5242880, initialPartUrls: 0 },
    ],
  });

export type CreateUploadBody = z.infer<typeof createUploadBody>;

export const partUrl = z
  .object({
    partNumber: z.number().int(),
    url: z.string().url().describe('Presigned PUT: send the bytes of this part here, straight to storage'),
    headers: z
      .record(z.string(), z.string())
      .describe(
        'Send these headers with the PUT: they are signed into the URL. None is one a browser refuses to set (Content-Length is signed but left to the client)',
      ),
    expiresAt: z.string().datetime(),
  })
  .meta({ id: 'PartUrl' });

export const partUrlList = z.object({ parts: z.array(partUrl) });

const partNumber = z.number().int().min(1).max(MAX_PARTS);
const base64Sha256 = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256');

export const signPartsBody = z
  .object({
    partNumbers: z
      .array(partNumber)
      .min(1)
      .max(MAX_PART_URLS_PER_CALL)
      .refine((v) => new Set(v).size === v.length, 'must not repeat a part number'),
    checksums: z.record(z.string().regex(/^\d{1,5}$/), base64Sha256).optional(),
  })
  .strict();

export type SignPartsBody = z.infer<typeof signPartsBody>;

export const reportPartBody = z
  .object({
    etag: z.string().min(1).max(128),
    size: byteCount.max(MAX_PART_BYTES),
  })
  .strict();

export const completeUploadBody = z
  .object({
    parts: z
      .array(z.object({ partNumber, etag: z.string().min(1).max(128) }).strict())
      .max(MAX_PARTS)
      .optional(),
  })
  .strict();

export type CompleteUploadBody = z.infer<typeof completeUploadBody>;

export const uploadStatus = z.enum(FILE_STATUSES).meta({ id: 'FileStatus' });

const initiatedCommon = {
  id: z.string().uuid(),
  status: z.literal('pending'),
  size: byteCount,
  expiresAt: z.string().datetime().describe('Send every byte before this; the upload then expires and its quota is released'),
};

/** `POST /v1/uploads` (201): small files get one PUT, large ones the part plan and a first batch of part URLs. */
export const uploadCreated = z
  .discriminatedUnion('mode', [
    z.object({
      ...initiatedCommon,
      mode: z.literal('single'),
      upload: z.object({
        method: z.literal('PUT'),
        url: z.string().url().describe('Presigned PUT of the whole file; single use'),
        headers: z
          .record(z.string(), z.string())
          .describe(
            'Send these headers with the PUT: they are signed into the URL. Content-Length is signed too (storage takes exactly `size` bytes) but not listed: browsers and HTTP clients set it from the body',
          ),
      }),
      form: z
        .object({
          method: z.literal('POST'),
          url: z.string().url().describe('Where to POST the form (the bucket)'),
          fields: z
            .record(z.string(), z.string())
            .describe(
              'Send every field as given in a multipart/form-data body, the file last. The policy pins the key, the type and the exact size; storage answers 201 with the ETag in its XML body',
            ),
        })
        .optional()
        .describe('With `form: true` in the request: an S3 POST policy for the same object, for browser form uploads'),
    }),
    z.object({
      ...initiatedCommon,
      mode: z.literal('multipart'),
      partSize: byteCount.describe(
        "The plan: parts of this size (the declared partSize, or the server's choice), the last smaller. Advice: any layout of parts of at least 5 MiB (the last smaller) adding up to size completes",
      ),
      partCount: z.number().int().min(1).describe('Parts in the plan'),
      maxPartNumber: z
        .number()
        .int()
        .min(1)
        .describe('The highest part number signing accepts: ceil(size / 5 MiB), at most 10,000 (the most parts a valid layout of this size has)'),
      parts: z.array(partUrl).describe('URLs of the first parts of the plan (initialPartUrls, default 100); sign the rest with POST /v1/uploads/{id}/parts'),
    }),
  ])
  .meta({
    id: 'UploadCreated',
    examples: [
      {
        id: '0f8fad5b-d9cb-469f-a165-70867728950e',
        status: 'pending',
        mode: 'single',
        size: 48213,
        expiresAt: '2026-12-07T10:15:00.000Z',
        upload: {
          method: 'PUT',
          url: 'https://uploads.s3.amazonaws.com/uploads/7c9e6679-7425-40de-944b-e07fc1f90ae7/0f8fad5b-d9cb-469f-a165-70867728950e?X-Amz-Signature=...',
          headers: { 'content-type': 'image/jpeg', 'if-none-match': '*' },
        },
      },
    ],
  });

/** `POST /v1/uploads` (200): the sha256 matched a stored file in scope; it is copied, no bytes to send. */
export const uploadDeduplicated = z.object({
  id: z.string().uuid(),
  status: z.literal('ready'),
  deduplicated: z.literal(true),
  mode: z.enum(['single', 'multipart']),
  filename: z.string(),
  size: byteCount,
  contentType: z.string(),
});

/** `POST /v1/uploads/{id}/complete` (202): storage has every part; its own event will mark the file uploaded. */
export const uploadCompleting = z.object({ id: z.string().uuid(), status: z.literal('completing') });

export type UploadCreated = z.infer<typeof uploadCreated>;
export type UploadDeduplicated = z.infer<typeof uploadDeduplicated>;
export type PartUrlView = z.infer<typeof partUrl>;

export const uploadView = z.object({
  id: z.string().uuid(),
  status: uploadStatus,
  mode: z.enum(['single', 'multipart']),
  filename: z.string(),
  size: byteCount,
  sizeKnown: z
    .literal(false)
    .optional()
    .describe('Present (false) while the client has not said the size (an upload through /companion): size is 0 until storage shows the bytes'),
  contentType: z.string(),
  partSize: byteCount.optional().describe("Multipart: the plan's part size (advice; the parts stored may follow another layout)"),
  partCount: z.number().int().optional().describe('Multipart: parts in the plan; uploadedParts lists the parts actually stored, in whatever layout'),
  maxPartNumber: z.number().int().optional().describe('Multipart: the highest part number signing accepts'),
  checksum: z.enum(['sha256']).nullable().describe('Multipart: whether each part must carry x-amz-checksum-sha256'),
  uploadedParts: z.array(z.object({ partNumber: z.number().int(), size: byteCount, etag: z.string() })),
  partsFrom: z
    .enum(['storage', 'ledger'])
    .describe(
      "Where uploadedParts comes from: storage's ListParts (an upload still taking parts, unless ?parts=ledger), or the part ledger (parts reported by the client, and the listing checked at completion)",
    ),
  bytesUploaded: byteCount.describe("The sum of uploadedParts' sizes (the whole size once stored)"),
  storage: z.enum(['unknown']).optional().describe('Present when storage could not be asked (an outage): uploadedParts is then what the part ledger holds'),
  reason: z.string().optional().describe('Why an upload ended without its bytes (aborted_by_client, upload_lost_in_storage, deadline_passed, ...)'),
  expiresAt: z.string().datetime(),
  createdAt: z.string().datetime(),
});

export type UploadView = z.infer<typeof uploadView>;

/** `GET /v1/uploads/{id}`: where its parts are read from (ListParts costs a storage call per 1,000 parts). */
export const uploadQuery = z
  .object({
    parts: z
      .enum(['storage', 'ledger'])
      .optional()
      .describe('storage (the default while the upload takes parts: what a client resumes from) or ledger (no storage call; for status polling)'),
  })
  .strict();
export type UploadQuery = z.infer<typeof uploadQuery>;
