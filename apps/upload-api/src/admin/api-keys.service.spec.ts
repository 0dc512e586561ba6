import { Logger } from '@nestjs/common';
import type { ApiKeyRecord, ApiKeyRepository, TenantAdminRecord, TenantRepository } from '@app/database';
import { aTenant, strictMock, TEST_TENANT_ID } from '@app/testing';
import { ApiKeysService, DEFAULT_KEY_GRACE_SECONDS } from './api-keys.service';

const NOW = new Date('2026-12-07T10:00:00.000Z');
const KEY_ID = '00000000-0000-4000-8000-0000000000aa';
const adminTenant = (deletedAt: Date | null = null): TenantAdminRecord => ({ ...aTenant(), createdAt: NOW, updatedAt: NOW, deletedAt });
const aKey = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: KEY_ID,
  tenantId: TEST_TENANT_ID,
  prefix: 'upk_abcdefgh',
  name: 'default',
  createdAt: NOW,
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  ...overrides,
});

function setup(keys: Parameters<typeof strictMock<ApiKeyRepository>>[1], tenant: TenantAdminRecord | null = adminTenant()) {
  const repo = strictMock<ApiKeyRepository>('keys', keys);
  const tenants = strictMock<TenantRepository>('tenants', { findForAdmin: async () => tenant });
  return { service: new ApiKeysService(repo, tenants), keys: repo };
}

describe('ApiKeysService', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));

  it('rotates: a new key returned once (its hash and prefix stored), older keys given now + grace (default a day)', async () => {
    const { service, keys } = setup({ rotate: async (_t, key) => ({ key: aKey({ prefix: key.prefix, name: 'rotated' }), expiring: 1 }) });
    const created = await service.rotate(TEST_TENANT_ID, undefined, NOW);
    const [tenantId, stored, graceEndsAt] = keys.rotate.mock.calls[0];
    expect(tenantId).toBe(TEST_TENANT_ID);
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(created.apiKey.startsWith(stored.prefix)).toBe(true);
    expect(JSON.stringify(created)).not.toContain(stored.hash);
    expect(graceEndsAt).toEqual(new Date(NOW.getTime() + DEFAULT_KEY_GRACE_SECONDS * 1000));
    expect(created).toMatchObject({ prefix: stored.prefix, active: true, previousKeysExpireAt: graceEndsAt.toISOString() });

    await service.rotate(TEST_TENANT_ID, 0, NOW);
    expect(keys.rotate.mock.calls[1][2]).toEqual(NOW);
  });

  it('refuses to rotate the keys of a tenant being deleted (409), or of none (404)', async () => {
    await expect(setup({ rotate: async () => null }, adminTenant(NOW)).service.rotate(TEST_TENANT_ID)).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(setup({ rotate: async () => null }, null).service.rotate(TEST_TENANT_ID)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists keys as active only while neither revoked nor expired', async () => {
    const { service } = setup({
      list: async () => [
        aKey(),
        aKey({ expiresAt: new Date(NOW.getTime() + 1) }),
        aKey({ expiresAt: NOW }),
        aKey({ revokedAt: new Date(NOW.getTime() - 1), lastUsedAt: NOW }),
      ],
    });
    const { items } = await service.list(TEST_TENANT_ID, NOW);
    expect(items.map((k) => k.active)).toEqual([true, true, false, false]);
    expect(items[3]).toMatchObject({ revokedAt: new Date(NOW.getTime() - 1).toISOString(), lastUsedAt: NOW.toISOString() });
  });

  it('revokes a key of the tenant; a key of another tenant, or none, is a 404', async () => {
    const { service, keys } = setup({ revoke: async (_t, id) => (id === KEY_ID ? aKey({ revokedAt: NOW }) : null) });
    await expect(service.revoke(TEST_TENANT_ID, KEY_ID, NOW)).resolves.toMatchObject({ id: KEY_ID, active: false, revokedAt: NOW.toISOString() });
    expect(keys.revoke).toHaveBeenCalledWith(TEST_TENANT_ID, KEY_ID);
    await expect(service.revoke(TEST_TENANT_ID, '00000000-0000-4000-8000-0000000000bb')).rejects.toMatchObject({ code: 'not_found' });
    await expect(setup({}, null).service.list(TEST_TENANT_ID)).rejects.toMatchObject({ code: 'not_found' });
  });
});
