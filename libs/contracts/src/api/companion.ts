import { z } from 'zod';
import { byteCount } from './common';
import { contentType, filename, MAX_METADATA_BYTES, MAX_PARTS } from './uploads';

/**
 * Companion's S3 protocol, as Uppy speaks it to `/companion` (Uppy 5's `endpoint`, Uppy 6's
 * `companionEndpoint`): the request and answer shapes of transloadit/uppy's
 * `packages/@uppy/companion/src/server/controllers/s3.js`. Neither Uppy version sends the file's
 * size, so an upload started here has none until storage shows its bytes (docs/companion.md).
 */

/** Uppy sends the file's type, or '' when the browser knows none. */
const uppyType = z
  .string()
  .default('')
  .transform((v) => v || 'application/octet-stream')
  .pipe(contentType);

const fitsMetadata = [
  (v: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= MAX_METADATA_BYTES,
  `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
] as const;
const uppyMetadata = z.record(z.string().max(128), z.unknown()).refine(...fitsMetadata);

const METADATA_KEY = /^metadata\[(.+)\]$/;

/** `GET /s3/params?filename=&type=&metadata[k]=v`: the metadata arrives as flat `metadata[k]` keys. */
export const companionParamsQuery = z
  .object({ filename, type: uppyType })
  .catchall(z.string())
  .transform(({ filename, type, ...rest }) => ({
    filename,
    contentType: type,
    metadata: Object.fromEntries(Object.entries(rest).flatMap(([k, v]) => (METADATA_KEY.test(k) ? [[k.replace(METADATA_KEY, '$1'), v]] : []))),
  }))
  .pipe(z.object({ filename: z.string(), contentType: z.string(), metadata: z.record(z.string().max(128), z.string()).refine(...fitsMetadata) }));
export type CompanionParamsQuery = z.infer<typeof companionParamsQuery>;

/** `POST /s3/multipart`. */
export const companionCreateBody = z
  .object({ filename, type: uppyType, metadata: uppyMetadata.optional() })
  .transform(({ filename, type, metadata }) => ({ filename, contentType: type, metadata: metadata ?? {} }));
export type CompanionCreateBody = z.infer<typeof companionCreateBody>;

/** Every call on a multipart upload names its object key, as Companion answered it. */
export const companionKeyQuery = z.object({ key: z.string().min(1).max(1024) });

/** `GET /s3/multipart/{uploadId}/batch?key=&partNumbers=1,2,3`. */
export const companionBatchQuery = companionKeyQuery.extend({
  partNumbers: z
    .string()
    .regex(/^\d{1,5}(,\d{1,5}){0,999}$/, 'must be a comma-separated list of at most 1,000 part numbers')
    .transform((v) => v.split(',').map(Number)),
});

const partNumber = z.coerce.number().int().min(1).max(MAX_PARTS);
export const companionPartParams = z.object({ partNumber });

/** `POST /s3/multipart/{uploadId}/complete?key=`. */
export const companionCompleteBody = z.object({
  parts: z.array(z.object({ PartNumber: partNumber, ETag: z.string().min(1).max(128) })).max(MAX_PARTS),
});
export type CompanionCompleteBody = z.infer<typeof companionCompleteBody>;

// ---- Answers ----

export const companionUploadParameters = z.object({
  method: z.literal('POST'),
  url: z.string().url(),
  fields: z.record(z.string(), z.string()),
  expires: z.number().int().describe('Seconds the policy stays valid'),
});

export const companionMultipartCreated = z.object({ key: z.string(), uploadId: z.string().describe("This platform's upload id") });

export const companionStoredPart = z.object({ PartNumber: z.number().int(), ETag: z.string(), Size: byteCount });

export const companionSignedPart = z.object({ url: z.string().url(), expires: z.number().int() });

export const companionSignedBatch = z.object({ presignedUrls: z.record(z.string(), z.string().url()) });

export const companionCompleted = z.object({
  location: z.string().url().describe('The upload in the v1 API: the file is `uploaded` once storage reports the object'),
  key: z.string(),
});
