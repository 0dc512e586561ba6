import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';

export interface NewTenant {
  name: string;
  quotaBytes: bigint;
  maxFileBytes: bigint;
  allowedTypes: string[];
  dedupScope: 'owner' | 'tenant';
  allowSvgRendering: boolean;
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
}

const tenantFields = {
  id: true,
  name: true,
  quotaBytes: true,
  maxFileBytes: true,
  allowedTypes: true,
  dedupScope: true,
  allowSvgRendering: true,
} as const;

@Injectable()
export class TenantRepository {
  constructor(private readonly prisma: PrismaService) {}

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
        apiKeys: { create: { keyHash: tenant.apiKey.hash, prefix: tenant.apiKey.prefix } },
        quota: { create: {} },
      },
      select: tenantFields,
    });
  }

  /** On every initiation's path: straight through pg (PrismaService.direct). */
  async find(id: string): Promise<TenantRecord | null> {
    const [tenant] = await this.prisma.direct<TenantRecord>(Prisma.sql`
      SELECT id::text AS "id", name, quota_bytes AS "quotaBytes", max_file_bytes AS "maxFileBytes", allowed_types AS "allowedTypes",
             dedup_scope::text AS "dedupScope", allow_svg_rendering AS "allowSvgRendering"
      FROM tenants WHERE id = ${id}::uuid`);
    return tenant ?? null;
  }

  /** The tenant of a live (not revoked) API key, by the key's hash. */
  async findByApiKeyHash(keyHash: string): Promise<{ tenantId: string; apiKeyId: string } | null> {
    const key = await this.prisma.apiKey.findUnique({ where: { keyHash }, select: { id: true, tenantId: true, revokedAt: true } });
    if (!key || key.revokedAt) return null;
    return { tenantId: key.tenantId, apiKeyId: key.id };
  }
}
