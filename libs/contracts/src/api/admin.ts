import { z } from 'zod';
import { byteCount, MAX_OBJECT_BYTES, mimePattern, variantName } from './common';

export const createTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    quotaBytes: byteCount.optional().describe('Total bytes the tenant may store (default 1 TiB)'),
    maxFileBytes: byteCount.max(MAX_OBJECT_BYTES).optional().describe('Largest single file (default and maximum 5 TiB)'),
    allowedTypes: z.array(mimePattern).max(100).optional().describe('MIME patterns such as image/*; empty or absent allows every type'),
    dedupScope: z.enum(['owner', 'tenant']).optional().describe('Instant uploads across the owner (default) or the whole tenant'),
    allowSvgRendering: z.boolean().optional().describe('Make raster variants of SVG files (default false: SVGs are stored as they are)'),
  })
  .strict();

export type CreateTenantBody = z.infer<typeof createTenantBody>;

export const tenantCreated = z.object({
  id: z.string().uuid(),
  name: z.string(),
  apiKey: z.string().describe('Shown once; only its hash is stored'),
  quotaBytes: byteCount,
  maxFileBytes: byteCount,
  allowedTypes: z.array(z.string()),
  dedupScope: z.enum(['owner', 'tenant']),
  allowSvgRendering: z.boolean(),
});

export type TenantCreated = z.infer<typeof tenantCreated>;

/** POST /v1/admin/reprocess: one file, or every ready/failed media file missing a variant. */
export const reprocessBody = z
  .object({
    fileId: z.string().uuid().optional().describe('Re-run processing of this file'),
    variant: variantName.optional().describe('Without fileId: only files missing this variant (default: missing any)'),
    tenantId: z.string().uuid().optional().describe('Without fileId: only this tenant'),
  })
  .strict()
  .refine((b) => !(b.fileId && (b.variant || b.tenantId)), { message: 'fileId reprocesses one file: give it alone' });

export const reprocessAccepted = z.object({ jobId: z.string(), queue: z.string() });

export const JOB_STATES = ['failed', 'completed', 'active', 'waiting', 'delayed'] as const;

/** GET /v1/admin/jobs: what the workers did, above all what failed and why. */
export const listJobsQuery = z
  .object({
    queue: z.string().max(64).optional().describe('One queue (default: all)'),
    state: z.enum(JOB_STATES).optional().describe('Default: failed'),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

export const jobView = z.object({
  queue: z.string(),
  id: z.string(),
  name: z.string(),
  state: z.enum(JOB_STATES),
  data: z.record(z.string(), z.unknown()),
  attemptsMade: z.number().int(),
  failedReason: z.string().nullable(),
  stacktrace: z.array(z.string()),
  createdAt: z.string().datetime(),
  processedAt: z.string().datetime().nullable(),
  finishedAt: z.string().datetime().nullable(),
});

export const jobList = z.object({ items: z.array(jobView) });
export type JobView = z.infer<typeof jobView>;
