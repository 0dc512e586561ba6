import { Injectable, Logger } from '@nestjs/common';
import { ApiKeyCreated, ApiKeyView, DomainError } from '@app/contracts';
import { ApiKeyRecord, ApiKeyRepository, TenantRepository } from '@app/database';
import { CredentialsService } from '@app/auth';
import { tenantNotFound } from './tenants.service';

/** How long older keys keep working after a rotation unless the caller says otherwise (a day). */
export const DEFAULT_KEY_GRACE_SECONDS = 86_400;

/**
 * A tenant's API keys for administrators (issue #13): listing (never a secret), rotation with a
 * grace period, revocation. How soon a change reaches authentication: CredentialsService.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly tenants: TenantRepository,
  ) {}

  async list(tenantId: string, now = new Date()): Promise<{ items: ApiKeyView[] }> {
    await this.existing(tenantId);
    return { items: (await this.keys.list(tenantId)).map((key) => keyView(key, now)) };
  }

  /**
   * Issues a new key (returned once) and gives every older working key of the tenant until
   * now + grace (0: they stop now); a key already due to stop sooner keeps its earlier end.
   */
  async rotate(tenantId: string, graceSeconds = DEFAULT_KEY_GRACE_SECONDS, now = new Date()): Promise<ApiKeyCreated> {
    const apiKey = CredentialsService.newApiKey();
    const graceEndsAt = new Date(now.getTime() + graceSeconds * 1000);
    const rotated = await this.keys.rotate(tenantId, { hash: apiKey.hash, prefix: apiKey.prefix }, graceEndsAt);
    if (!rotated) throw await this.unusable(tenantId);
    this.logger.log({ tenantId, keyPrefix: apiKey.prefix, olderKeysExpiring: rotated.expiring, graceSeconds }, 'API key rotated');
    return { ...keyView(rotated.key, now), apiKey: apiKey.key, previousKeysExpireAt: graceEndsAt.toISOString() };
  }

  /** Revokes one key at once (again: no change). */
  async revoke(tenantId: string, keyId: string, now = new Date()): Promise<ApiKeyView> {
    await this.existing(tenantId);
    const key = await this.keys.revoke(tenantId, keyId);
    if (!key) throw new DomainError('not_found', 'This tenant has no such API key.');
    this.logger.log({ tenantId, apiKeyId: keyId, keyPrefix: key.prefix }, 'API key revoked');
    return keyView(key, now);
  }

  private async existing(tenantId: string): Promise<void> {
    if (!(await this.tenants.findForAdmin(tenantId))) throw tenantNotFound();
  }

  private async unusable(tenantId: string): Promise<DomainError> {
    const tenant = await this.tenants.findForAdmin(tenantId);
    if (!tenant) return tenantNotFound();
    return new DomainError('invalid_state', 'This tenant is being deleted; it gets no new keys.', { deletedAt: tenant.deletedAt?.toISOString() });
  }
}

function keyView(key: ApiKeyRecord, now: Date): ApiKeyView {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    active: !key.revokedAt && (!key.expiresAt || key.expiresAt > now),
  };
}
