import { Injectable } from '@nestjs/common';
import { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';

/** What authentication needs of a key found by its hash. */
export interface ApiKeyMatch {
  tenantId: string;
  apiKeyId: string;
  /** The end of a rotation's grace period; null while the key is the tenant's current one. */
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** An API key as administrators see it: never its secret, nor its hash. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  prefix: string;
  name: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const KEY_COLUMNS = Prisma.raw(`id::text AS "id", tenant_id::text AS "tenantId", prefix, name, created_at AS "createdAt", expires_at AS "expiresAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`);

/** The last use is recorded at most this often per key and process: the listing's precision. */
const LAST_USED_PRECISION = Prisma.raw(`interval '1 minute'`);

/** Tenants' API keys: stored as SHA-256 hashes only (libs/auth's CredentialsService makes them). */
@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The key with this hash if it is not revoked and its tenant is not being deleted (its expiry is
   * the caller's to check on every use, cached or not). On every API-key request's path whose
   * lookup is not cached: straight through pg.
   */
  async findByHash(keyHash: string): Promise<ApiKeyMatch | null> {
    const [key] = await this.prisma.direct<ApiKeyMatch>(Prisma.sql`
      SELECT k.tenant_id::text AS "tenantId", k.id::text AS "apiKeyId", k.expires_at AS "expiresAt", k.last_used_at AS "lastUsedAt"
      FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
      WHERE k.key_hash = ${keyHash} AND k.revoked_at IS NULL AND t.deleted_at IS NULL`);
    return key ?? null;
  }

  /** Records a use of the key, unless one was recorded within the last minute (no write then). */
  async touch(apiKeyId: string): Promise<void> {
    await this.prisma.direct(Prisma.sql`
      UPDATE api_keys SET last_used_at = now()
      WHERE id = ${apiKeyId}::uuid AND (last_used_at IS NULL OR last_used_at < now() - ${LAST_USED_PRECISION})`);
  }

  /** Every key of the tenant, revoked and expired ones too, newest first. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.prisma.direct<ApiKeyRecord>(Prisma.sql`
      SELECT ${KEY_COLUMNS} FROM api_keys WHERE tenant_id = ${tenantId}::uuid ORDER BY api_keys.created_at DESC, api_keys.id DESC`);
  }

  /**
   * Rotation, in one transaction: a new key, and every other working key of the tenant set to
   * expire at `graceEndsAt` (an earlier expiry already set stays: a rotation never lengthens a
   * grace). The tenant row is locked first (without blocking its files' inserts), so two
   * rotations run one after the other. Null when the tenant does not exist or is being deleted.
   */
  async rotate(tenantId: string, key: { hash: string; prefix: string }, graceEndsAt: Date): Promise<{ key: ApiKeyRecord; expiring: number } | null> {
    return this.prisma.$transaction(async (tx) => {
      const tenant = await tx.$queryRaw<unknown[]>`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid AND deleted_at IS NULL FOR NO KEY UPDATE`;
      if (!tenant.length) return null;
      const expiring = await tx.$executeRaw`
        UPDATE api_keys SET expires_at = LEAST(coalesce(expires_at, 'infinity'::timestamptz), ${graceEndsAt}::timestamptz)
        WHERE tenant_id = ${tenantId}::uuid AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;
      const [created] = await tx.$queryRaw<ApiKeyRecord[]>`
        INSERT INTO api_keys (id, tenant_id, key_hash, prefix, name) VALUES (gen_random_uuid(), ${tenantId}::uuid, ${key.hash}, ${key.prefix}, 'rotated')
        RETURNING ${KEY_COLUMNS}`;
      return { key: created, expiring };
    });
  }

  /** Revokes a key of the tenant at once (idempotent: the first revocation time stays); null when it has no such key. */
  async revoke(tenantId: string, apiKeyId: string): Promise<ApiKeyRecord | null> {
    const [key] = await this.prisma.direct<ApiKeyRecord>(Prisma.sql`
      UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = ${apiKeyId}::uuid AND tenant_id = ${tenantId}::uuid RETURNING ${KEY_COLUMNS}`);
    return key ?? null;
  }
}
