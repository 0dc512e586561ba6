import { randomInt } from 'node:crypto';
import type { Tx } from './change-event.repository';
import { Prisma } from './generated/prisma/client';

/**
 * What a step does to the quota of the file's tenant (which effect a step has is the state
 * machine's rule, libs/lifecycle):
 * - `commit`: reserved -> used (storage confirmed the bytes);
 * - `release`: reserved -> free (the upload will never complete);
 * - `free`: used -> free (stored bytes are gone).
 *
 * A tenant's quota is held in stripes (docs/adr/0017-quota-stripes.md): rows of `quota_usage`,
 * each with an allotment, the allotments summing to at most the tenant's quota. An admission
 * charges one stripe and checks only that stripe's allotment, so concurrent initiations of one
 * tenant lock different rows; the file remembers its stripe (`files.quota_stripe`) and every
 * later effect goes to the same row. The tenant's totals are the view `quota_totals`.
 */
export type QuotaEffect = 'commit' | 'release' | 'free';

/** The stripe a new file is charged to: any of them, so concurrent admissions rarely meet. */
export function pickStripe(stripes: number): number {
  return randomInt(stripes);
}

/**
 * The admission on one stripe: adds bytes to the stripe's reserved or used total only if the sum
 * stays within its allotment. Check and increment are one conditional UPDATE (which locks that
 * row only), so concurrent callers cannot overshoot. Returns the tenant id when admitted, no row
 * when not (then `rebalanceQuota` decides): a statement can build on it as a CTE
 * (FileTransitionRepository.createUpload).
 */
export function admitQuotaSql(tenantId: string, stripe: number, bytes: { reserve?: bigint; use?: bigint }): Prisma.Sql {
  const reserve = bytes.reserve ?? 0n;
  const use = bytes.use ?? 0n;
  return Prisma.sql`
    UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${reserve}::bigint, used_bytes = q.used_bytes + ${use}::bigint, updated_at = now()
    WHERE q.tenant_id = ${tenantId}::uuid AND q.stripe = ${stripe}::smallint
      AND q.used_bytes + q.reserved_bytes + ${reserve + use}::bigint <= q.allotment_bytes
    RETURNING q.tenant_id`;
}

/**
 * When a stripe's allotment is too small for an admission: every stripe of the tenant locked (in
 * stripe order, so two rebalances cannot deadlock; missing stripes created first), the tenant's
 * whole quota compared with the sum of all stripes, and, if the bytes fit, the free space dealt
 * out again: `stripe` gets the bytes plus its share, the others their share. False when the
 * tenant's quota really is exhausted. The caller admits on `stripe` in the same transaction, while
 * the locks make the new allotment its own.
 */
export async function rebalanceQuota(tx: Tx, tenantId: string, stripe: number, stripes: number, bytes: bigint): Promise<boolean> {
  await tx.$executeRaw`
    INSERT INTO quota_usage (tenant_id, stripe, updated_at)
    SELECT ${tenantId}::uuid, s::smallint, now() FROM generate_series(0, ${stripes - 1}::int) AS s
    ON CONFLICT (tenant_id, stripe) DO NOTHING`;
  // FOR SHARE on the tenant: its quota cannot change while it is dealt out.
  const [tenant] = await tx.$queryRaw<Array<{ quota: bigint }>>`SELECT quota_bytes AS quota FROM tenants WHERE id = ${tenantId}::uuid FOR SHARE`;
  if (!tenant) return false;
  const rows = await tx.$queryRaw<Array<{ stripe: number; held: bigint }>>`
    SELECT stripe, used_bytes + reserved_bytes AS held FROM quota_usage WHERE tenant_id = ${tenantId}::uuid ORDER BY stripe FOR UPDATE`;
  const held = rows.reduce((sum, row) => sum + row.held, 0n);
  const free = tenant.quota - held - bytes;
  // Exhausted (or a lowered quota): each stripe keeps what it holds and admits nothing more.
  const allotments = free < 0n ? rows.map((row) => ({ stripe: row.stripe, allotment: row.held })) : dealOut(rows, stripe, stripes, bytes, free);
  await tx.$executeRaw`
    UPDATE quota_usage q SET allotment_bytes = a.allotment, updated_at = now()
    FROM unnest(${allotments.map((a) => a.stripe)}::smallint[], ${allotments.map((a) => a.allotment.toString())}::bigint[]) AS a(stripe, allotment)
    WHERE q.tenant_id = ${tenantId}::uuid AND q.stripe = a.stripe`;
  return free >= 0n;
}

/**
 * Each stripe's new allotment: what it holds plus an equal share of `free` (stripes beyond the
 * configured count, left from a larger setting, get no share), `stripe` the bytes it admits and
 * the remainder too. The allotments sum to exactly the quota.
 */
export function dealOut(
  rows: ReadonlyArray<{ stripe: number; held: bigint }>,
  stripe: number,
  stripes: number,
  bytes: bigint,
  free: bigint,
): Array<{ stripe: number; allotment: bigint }> {
  const share = free / BigInt(stripes);
  const remainder = free - share * BigInt(stripes);
  return rows.map((row) => {
    let allotment = row.held;
    if (row.stripe < stripes) allotment += share;
    if (row.stripe === stripe) allotment += bytes + remainder;
    return { stripe: row.stripe, allotment };
  });
}

/** The admission in a transaction (its stripe, rebalanced when short): true when admitted. */
export async function admitQuota(tx: Tx, tenantId: string, stripe: number, stripes: number, bytes: { reserve?: bigint; use?: bigint }): Promise<boolean> {
  const admit = () => tx.$queryRaw<Array<{ tenant_id: string }>>(admitQuotaSql(tenantId, stripe, bytes));
  if ((await admit()).length === 1) return true;
  if (!(await rebalanceQuota(tx, tenantId, stripe, stripes, (bytes.reserve ?? 0n) + (bytes.use ?? 0n)))) return false;
  return (await admit()).length === 1;
}

/** What an effect does to a stripe's reserved and used bytes. */
export interface QuotaDelta {
  reserved: bigint;
  used: bigint;
}

export function quotaDelta(effect: QuotaEffect, size: bigint): QuotaDelta {
  if (effect === 'commit') return { reserved: -size, used: size };
  if (effect === 'release') return { reserved: -size, used: 0n };
  return { reserved: 0n, used: -size };
}

/**
 * Effects on the stripe the file was charged to. They only shrink what a stripe holds (or move
 * bytes within it), so they need no allotment check.
 */
export async function applyQuotaDelta(tx: Tx, tenantId: string, stripe: number, delta: QuotaDelta): Promise<void> {
  if (delta.reserved === 0n && delta.used === 0n) return;
  await tx.$executeRaw`
    UPDATE quota_usage SET reserved_bytes = reserved_bytes + ${delta.reserved}::bigint, used_bytes = used_bytes + ${delta.used}::bigint, updated_at = now()
    WHERE tenant_id = ${tenantId}::uuid AND stripe = ${stripe}::smallint`;
}
