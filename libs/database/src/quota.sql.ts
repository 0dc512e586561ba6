import type { Tx } from './change-event.repository';

/**
 * What a step does to its tenant's `quota_usage` row (which effect a step has is the state
 * machine's rule, libs/lifecycle):
 * - `commit`: reserved -> used (storage confirmed the bytes);
 * - `release`: reserved -> free (the upload will never complete);
 * - `free`: used -> free (stored bytes are gone).
 */
export type QuotaEffect = 'commit' | 'release' | 'free';

/**
 * Adds bytes to the tenant's reserved or used total only if the sum stays within its quota: the
 * check and the increment are one conditional UPDATE, so concurrent callers cannot overshoot.
 */
export async function admitQuota(tx: Tx, tenantId: string, bytes: { reserve?: bigint; use?: bigint }): Promise<boolean> {
  const reserve = bytes.reserve ?? 0n;
  const use = bytes.use ?? 0n;
  const updated = await tx.$executeRaw`
    UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${reserve}, used_bytes = q.used_bytes + ${use}, updated_at = now()
    FROM tenants t
    WHERE q.tenant_id = ${tenantId}::uuid AND t.id = q.tenant_id
      AND q.used_bytes + q.reserved_bytes + ${reserve + use} <= t.quota_bytes`;
  return updated === 1;
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
