import { z } from 'zod';
import { byteCount, MAX_OBJECT_BYTES, mimePattern } from './common';

export const createTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    quotaBytes: byteCount.optional().describe('Total bytes the tenant may store (default 1 TiB)'),
    maxFileBytes: byteCount.max(MAX_OBJECT_BYTES).optional().describe('Largest single file (default and maximum 5 TiB)'),
    allowedTypes: z.array(mimePattern).max(100).optional().describe('MIME patterns such as image/*; empty or absent allows every type'),
    dedupScope: z.enum(['owner', 'tenant']).optional().describe('Instant uploads across the owner (default) or the whole tenant'),
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
});

export type TenantCreated = z.infer<typeof tenantCreated>;
