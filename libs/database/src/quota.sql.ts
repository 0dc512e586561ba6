import type { Tx } from './change-event.repository';
import { Prisma } from './generated/prisma/client';

/**
 * What a step does to its tenant's `quota_usage` row (which effect a step has is the state
 * machine's rule, libs/lifecycle):
 * - `commit`: reserved -> used (storage confirmed the bytes);
 * - `release`: reserved -> free (the upload will never complete);
 * - `free`: used -> free (stored bytes are gone).
 */
export type QuotaEffect = 'commit' | 'release' | 'free';

/**
 * The admission: adds bytes to the tenant's reserved or used total only if the sum stays within
 * its quota. The check and the increment are one conditional UPDATE (which locks the tenant's
 * row), so concurrent callers cannot overshoot. Returns the tenant id when admitted, no row when
 * not: a statement can build on it as a CTE (FileTransitionRepository.createUpload).
 */
export function admitQuotaSql(tenantId: string, bytes: { reserve?: bigint; use?: bigint }): Prisma.Sql {
  const reserve = bytes.reserve ?? 0n;
  const use = bytes.use ?? 0n;
  return Prisma.sql`
    UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${reserve}::bigint, used_bytes = q.used_bytes + ${use}::bigint, updated_at = now()
    FROM tenants t
    WHERE q.tenant_id = ${tenantId}::uuid AND t.id = q.tenant_id
      AND q.used_bytes + q.reserved_bytes + ${reserve + use}::bigint <= t.quota_bytes
    RETURNING q.tenant_id`;
}

/** The admission on its own, in a transaction: true when admitted. */
export async function admitQuota(tx: Tx, tenantId: string, bytes: { reserve?: bigint; use?: bigint }): Promise<boolean> {
  return (await tx.$queryRaw<Array<{ tenant_id: string }>>(admitQuotaSql(tenantId, bytes))).length === 1;
}

export async function applyQuota(tx: Tx, tenantId: string, size: bigint, effect: QuotaEffect): Promise<void> {
  if (size === 0n) return;
  if (effect === 'commit') {
    await tx.$executeRaw`UPDATE quota_usage SET reserved_bytes = reserved_bytes - ${size}, used_bytes = used_bytes + ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
  } else if (effect === 'release') {
    await tx.$executeRaw`UPDATE quota_usage SET reserved_bytes = reserved_bytes - ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
  } else {
    await tx.$executeRaw`UPDATE quota_usage SET used_bytes = used_bytes - ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
  }
}
