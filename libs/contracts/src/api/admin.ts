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
    scanUploads: z.boolean().optional().describe('Scan every file for malware before it is ready (default true)'),
    scanTooLarge: z
      .enum(['reject', 'skip'])
      .optional()
      .describe('A file larger than the scanner takes: ready unscanned with `scan: skipped_too_large` in its view (default), or rejected'),
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
  scanUploads: z.boolean(),
  scanTooLarge: z.enum(['reject', 'skip']),
});

export type TenantCreated = z.infer<typeof tenantCreated>;

// ---- Tenant administration (issue #13) ----

const pageLimit = z.coerce.number().int().min(1).max(100);

/** `GET /v1/admin/tenants`: newest first, keyset-paginated like the file list. */
export const listTenantsQuery = z
  .object({
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
    limit: pageLimit.optional().describe('Tenants per page (default 50)'),
  })
  .strict();

export type ListTenantsQuery = z.infer<typeof listTenantsQuery>;

export const tenantView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  quotaBytes: byteCount,
  maxFileBytes: byteCount,
  allowedTypes: z.array(z.string()),
  dedupScope: z.enum(['owner', 'tenant']),
  allowSvgRendering: z.boolean(),
  scanUploads: z.boolean(),
  scanTooLarge: z.enum(['reject', 'skip']),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  deletedAt: z.string().datetime().nullable().describe('Set while the tenant is being deleted: its credentials no longer work and its files are being removed'),
});

export type TenantView = z.infer<typeof tenantView>;

export const tenantList = z.object({ items: z.array(tenantView), nextCursor: z.string().nullable() });
export type TenantList = z.infer<typeof tenantList>;

/** `GET|PATCH /v1/admin/tenants/{id}`: the tenant with what it holds against its quota (as `GET /v1/usage` counts it). */
export const tenantDetail = tenantView.extend({
  usage: z.object({
    usedBytes: byteCount.describe('Stored bytes (uploaded, processing, ready and failed files)'),
    reservedBytes: byteCount.describe('Bytes reserved by uploads not yet stored'),
    files: z.number().int().min(0).describe('Files holding quota (stored, or uploads in progress)'),
    availableBytes: byteCount.describe('What new uploads may still reserve: quotaBytes less used and reserved bytes, at least 0'),
  }),
});

export type TenantDetail = z.infer<typeof tenantDetail>;

/**
 * `PATCH /v1/admin/tenants/{id}`: any of the settings a tenant was created with, at least one.
 * A quota below what the tenant holds (stored and reserved bytes) is a 409 conflict naming
 * `heldBytes`; nothing changes. Settings apply to what comes next, never to stored files.
 */
export const updateTenantBody = createTenantBody
  .partial()
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: 'Give at least one setting to change' });

export type UpdateTenantBody = z.infer<typeof updateTenantBody>;

export const deleteTenantQuery = z
  .object({
    force: z
      .enum(['true', 'false'])
      .optional()
      .describe('true: delete the tenant with every file it holds. Without it, a tenant that still holds files answers 409 conflict'),
  })
  .strict();

/** `DELETE /v1/admin/tenants/{id}`: 200 `deleted` when it is gone; 202 `deleting` while files remain (the same DELETE continues). */
export const tenantDeletion = z.object({
  id: z.string().uuid(),
  status: z.enum(['deleted', 'deleting']),
  deletedAt: z.string().datetime().describe('When the deletion began: since then its keys and user tokens are refused'),
  remainingFiles: z.number().int().min(0).describe('Files still to remove; send the same DELETE again to go on'),
});

export type TenantDeletion = z.infer<typeof tenantDeletion>;

/** Longest grace a rotated key may keep working (30 days). */
export const MAX_KEY_GRACE_SECONDS = 30 * 24 * 3600;

export const apiKeyView = z.object({
  id: z.string().uuid(),
  prefix: z.string().describe('First characters of the key, to recognise it (not a secret)'),
  name: z.string(),
  createdAt: z.string().datetime(),
  expiresAt: z.string().datetime().nullable().describe('End of its grace after a rotation; null: no expiry'),
  revokedAt: z.string().datetime().nullable(),
  lastUsedAt: z.string().datetime().nullable().describe('Last use, recorded to about a minute'),
  active: z.boolean().describe('Not revoked and not expired (a revoked key may still be accepted for API_KEY_CACHE_SECONDS)'),
});

export type ApiKeyView = z.infer<typeof apiKeyView>;

export const apiKeyList = z.object({ items: z.array(apiKeyView) });

/** `POST /v1/admin/tenants/{id}/keys`: rotation. Every older key of the tenant keeps working for the grace, then stops. */
export const rotateKeyBody = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_KEY_GRACE_SECONDS)
      .optional()
      .describe('How long the older keys keep working (default 86400, at most 30 days; 0 ends them within API_KEY_CACHE_SECONDS)'),
  })
  .strict()
  // No body at all is the empty one: every setting at its default.
  .default({});

export type RotateKeyBody = z.infer<typeof rotateKeyBody>;

export const apiKeyCreated = apiKeyView.extend({
  apiKey: z.string().describe('Shown once; only its hash is stored'),
  previousKeysExpireAt: z.string().datetime().describe('When the older keys stop working'),
});

export type ApiKeyCreated = z.infer<typeof apiKeyCreated>;

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
