import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { DatabaseEnv } from '@app/config';
import type { FileStatusName } from '@app/contracts';
import { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';
import { rebalanceQuota } from './quota.sql';

export interface NewTenant {
  name: string;
  quotaBytes: bigint;
  maxFileBytes: bigint;
  allowedTypes: string[];
  dedupScope: 'owner' | 'tenant';
  allowSvgRendering: boolean;
  scanUploads: boolean;
  scanTooLarge: 'reject' | 'skip';
  apiKey: { hash: string; prefix: string };
}

export interface TenantRecord {
  id: string;
  name: string;
  quotaBytes: bigint;
  maxFileBytes: bigint;
  allowedTypes: string[];
  dedupScope: 'owner' | 'tenant';
  /** SVG files get raster variants (issue #11); off unless the tenant was created with it. */
  allowSvgRendering: boolean;
  /** Files are ready only after a clean malware scan (issue #15). */
  scanUploads: boolean;
  /** A file larger than the scanner takes: rejected, or ready unscanned (`scan: skipped_too_large`). */
  scanTooLarge: 'reject' | 'skip';
}

/** What an administrator sees of a tenant: its settings, when it was made, and whether it is being deleted. */
export interface TenantAdminRecord extends TenantRecord {
  createdAt: Date;
  updatedAt: Date;
  /** Set when its deletion was asked for: its credentials no longer work, its files are being removed. */
  deletedAt: Date | null;
}

/** The settings an administrator may change (absent: unchanged). */
export type TenantPatch = Partial<
  Pick<TenantRecord, 'name' | 'quotaBytes' | 'maxFileBytes' | 'allowedTypes' | 'dedupScope' | 'allowSvgRendering' | 'scanUploads' | 'scanTooLarge'>
>;

const tenantFields = {
  id: true,
  name: true,
  quotaBytes: true,
  maxFileBytes: true,
  allowedTypes: true,
  dedupScope: true,
  allowSvgRendering: true,
  scanUploads: true,
  scanTooLarge: true,
} as const;

const TENANT_COLUMNS = Prisma.raw(`id::text AS "id", name, quota_bytes AS "quotaBytes", max_file_bytes AS "maxFileBytes", allowed_types AS "allowedTypes",
  dedup_scope::text AS "dedupScope", allow_svg_rendering AS "allowSvgRendering", scan_uploads AS "scanUploads", scan_too_large::text AS "scanTooLarge"`);
const ADMIN_COLUMNS = Prisma.raw(`${TENANT_COLUMNS.text}, created_at AS "createdAt", updated_at AS "updatedAt", deleted_at AS "deletedAt"`);

const PATCH_COLUMNS: Record<keyof TenantPatch, (value: never) => Prisma.Sql> = {
  name: (v: string) => Prisma.sql`name = ${v}`,
  quotaBytes: (v: bigint) => Prisma.sql`quota_bytes = ${v}::bigint`,
  maxFileBytes: (v: bigint) => Prisma.sql`max_file_bytes = ${v}::bigint`,
  allowedTypes: (v: string[]) => Prisma.sql`allowed_types = ${v}::text[]`,
  dedupScope: (v: string) => Prisma.sql`dedup_scope = ${v}::dedup_scope`,
  allowSvgRendering: (v: boolean) => Prisma.sql`allow_svg_rendering = ${v}`,
  scanUploads: (v: boolean) => Prisma.sql`scan_uploads = ${v}`,
  scanTooLarge: (v: string) => Prisma.sql`scan_too_large = ${v}::scan_too_large_policy`,
};

@Injectable()
export class TenantRepository {
  private readonly stripes: number;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) config: Pick<DatabaseEnv, 'QUOTA_STRIPES'>,
  ) {
    this.stripes = config.QUOTA_STRIPES;
  }

  /** Tenant, its first API key (hash only) and its quota row, in one transaction. */
  async create(tenant: NewTenant): Promise<TenantRecord> {
    return this.prisma.tenant.create({
      data: {
        name: tenant.name,
        quotaBytes: tenant.quotaBytes,
        maxFileBytes: tenant.maxFileBytes,
        allowedTypes: tenant.allowedTypes,
        dedupScope: tenant.dedupScope,
        allowSvgRendering: tenant.allowSvgRendering,
        scanUploads: tenant.scanUploads,
        scanTooLarge: tenant.scanTooLarge,
        apiKeys: { create: { keyHash: tenant.apiKey.hash, prefix: tenant.apiKey.prefix } },
        quota: { create: {} },
      },
      select: tenantFields,
    });
  }

  /**
   * A tenant that is not being deleted. On every initiation's path: straight through pg
   * (PrismaService.direct). A tenant whose deletion began no longer exists for the platform, so an
   * API key still in a process's cache cannot start an upload (the initiation answers 401).
   */
  async find(id: string): Promise<TenantRecord | null> {
    const [tenant] = await this.prisma.direct<TenantRecord>(Prisma.sql`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ${id}::uuid AND deleted_at IS NULL`);
    return tenant ?? null;
  }

  /** Whether the tenant exists and is not being deleted (user tokens are checked against it). */
  async isActive(id: string): Promise<boolean> {
    const rows = await this.prisma.direct(Prisma.sql`SELECT 1 FROM tenants WHERE id = ${id}::uuid AND deleted_at IS NULL`);
    return rows.length === 1;
  }

  /** The tenant as an administrator sees it, also while it is being deleted. */
  async findForAdmin(id: string): Promise<TenantAdminRecord | null> {
    const [tenant] = await this.prisma.direct<TenantAdminRecord>(Prisma.sql`SELECT ${ADMIN_COLUMNS} FROM tenants WHERE id = ${id}::uuid`);
    return tenant ?? null;
  }

  /**
   * Tenants newest first, keyset-paginated by (created_at, id) like the file list. Tenants are the
   * platform's internal teams (hundreds, not millions), so no index is kept for this order: the
   * sort of the whole table costs less than keeping one.
   */
  async list(limit: number, after?: { createdAt: Date; id: string }): Promise<TenantAdminRecord[]> {
    const position = after ? Prisma.sql`WHERE (created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : Prisma.empty;
    return this.prisma.direct<TenantAdminRecord>(Prisma.sql`
      SELECT ${ADMIN_COLUMNS} FROM tenants ${position} ORDER BY tenants.created_at DESC, tenants.id DESC LIMIT ${limit}`);
  }

  /**
   * Changes a live tenant's settings: the tenant, or `missing` (none, or being deleted), or
   * `quotaBelowHeld` (nothing changed) with what the tenant holds.
   *
   * A new quota is dealt out to the tenant's quota stripes in the same transaction
   * (docs/adr/0017-quota-stripes.md, `rebalanceQuota` with zero bytes), with the tenant row locked
   * first as every rebalance takes it and then all its stripes, so no admission runs meanwhile: a
   * raised quota admits at once, a lowered one binds at once. A quota below what the stripes hold
   * is refused (rolled back): the allotments could then not sum to at most the quota, the rule
   * that keeps concurrent admissions from ever overshooting (a stripe keeps the allotment it
   * holds, and bytes it frees later would admit again without a rebalance).
   */
  async update(id: string, patch: TenantPatch): Promise<{ tenant: TenantAdminRecord } | { missing: true } | { quotaBelowHeld: bigint }> {
    const sets = (Object.keys(PATCH_COLUMNS) as Array<keyof TenantPatch>)
      .filter((key) => patch[key] !== undefined)
      .map((key) => PATCH_COLUMNS[key](patch[key] as never));
    if (!sets.length) throw new Error('TenantRepository.update needs at least one setting');
    try {
      return await this.prisma.$transaction(async (tx) => {
        const [tenant] = await tx.$queryRaw<TenantAdminRecord[]>`
          UPDATE tenants SET ${Prisma.join(sets, ', ')}, updated_at = now() WHERE id = ${id}::uuid AND deleted_at IS NULL RETURNING ${ADMIN_COLUMNS}`;
        if (!tenant) return { missing: true as const };
        if (patch.quotaBytes !== undefined && !(await rebalanceQuota(tx, id, 0, this.stripes, 0n))) {
          const [{ held }] = await tx.$queryRaw<Array<{ held: bigint }>>`
            SELECT coalesce(sum(used_bytes + reserved_bytes), 0)::bigint AS held FROM quota_usage WHERE tenant_id = ${id}::uuid`;
          throw new QuotaBelowHeld(held);
        }
        return { tenant };
      });
    } catch (error) {
      if (error instanceof QuotaBelowHeld) return { quotaBelowHeld: error.held };
      throw error;
    }
  }

  /** Starts the tenant's deletion (idempotent: the first time stays); null when there is no such tenant. */
  async markDeleted(id: string): Promise<TenantAdminRecord | null> {
    const [tenant] = await this.prisma.direct<TenantAdminRecord>(Prisma.sql`
      UPDATE tenants SET deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = ${id}::uuid RETURNING ${ADMIN_COLUMNS}`);
    return tenant ?? null;
  }

  /**
   * Removes a tenant whose deletion began and that holds no file in `live` statuses any more: the
   * row and, by its foreign keys, its API keys, quota stripes, webhooks and the rows of its ended
   * files; its change feed too (no foreign key there). False, removing nothing, while a live file
   * remains (one initiated through a key still cached somewhere after the purge looked).
   */
  async remove(id: string, live: readonly FileStatusName[]): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const removed = await tx.$executeRaw`
        DELETE FROM tenants t WHERE t.id = ${id}::uuid AND t.deleted_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM files f WHERE f.tenant_id = t.id AND f.status = ANY(${[...live]}::file_status[]))`;
      if (removed === 0) return false;
      await tx.$executeRaw`DELETE FROM change_events WHERE tenant_id = ${id}::uuid`;
      await tx.$executeRaw`DELETE FROM owner_sequences WHERE tenant_id = ${id}::uuid`;
      return true;
    });
  }
}

/** Rolls back a quota change the tenant's holdings do not fit. */
class QuotaBelowHeld extends Error {
  constructor(readonly held: bigint) {
    super('quota below held bytes');
  }
}
