import { z } from 'zod';
import { byteCount } from './common';

const usageNumbers = z.object({
  usedBytes: byteCount.describe('Stored bytes (uploaded, processing, ready and failed files)'),
  reservedBytes: byteCount.describe('Bytes reserved by uploads not yet stored'),
  files: z.number().int().min(0).describe('Files holding quota (stored, or uploads in progress)'),
});

/** `GET /v1/usage`: what the owner holds, and with a tenant API key the tenant's whole quota. */
export const usageView = z.object({
  owner: usageNumbers.extend({ ownerId: z.string() }),
  tenant: usageNumbers
    .extend({ quotaBytes: byteCount })
    .optional()
    .describe("The tenant's totals against its quota: with a tenant API key only, never with a user's token"),
});

export type UsageView = z.infer<typeof usageView>;
