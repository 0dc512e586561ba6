import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { ApiKeyMatch, ApiKeyRepository, TenantRepository } from '@app/database';
import { strictMock } from '@app/testing';
import { CredentialsService } from './credentials.service';

const config = { ADMIN_TOKEN: 'admin-token-0123456789', TOKEN_SIGNING_SECRET: 'signing-secret-0123456789abcdef0123456789', API_KEY_CACHE_SECONDS: 5 };

type KeyRow = Pick<ApiKeyMatch, 'tenantId' | 'apiKeyId'> & Partial<ApiKeyMatch>;

/** The service over strict mocks of its two repositories: `keys` by hash, `active` tenants for user tokens. */
function service(keys: Record<string, KeyRow> = {}, cacheSeconds = config.API_KEY_CACHE_SECONDS, active: Set<string> = new Set([TENANT, 't1'])) {
  const apiKeys = strictMock<ApiKeyRepository>('apiKeys', {
    findByHash: async (hash: string) => (keys[hash] ? { expiresAt: null, lastUsedAt: null, ...keys[hash] } : null),
    touch: async () => undefined,
  });
  const tenants = strictMock<TenantRepository>('tenants', { isActive: async (id: string) => active.has(id) });
  const credentials = new CredentialsService({ ...config, API_KEY_CACHE_SECONDS: cacheSeconds }, apiKeys, tenants);
  return { credentials, tenants: apiKeys, apiKeys, activeTenants: tenants, active };
}

const TENANT = '0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01';

describe('CredentialsService', () => {
  it('recognises the admin token and nothing resembling it', async () => {
    const { credentials, tenants } = service();
    await expect(credentials.authenticate('Bearer admin-token-0123456789')).resolves.toEqual({ kind: 'admin' });
    await expect(credentials.authenticate('Bearer admin-token-012345678')).resolves.toBeNull();
    await expect(credentials.authenticate('admin-token-0123456789')).resolves.toBeNull();
    await expect(credentials.authenticate(undefined)).resolves.toBeNull();
    expect(tenants.findByHash).not.toHaveBeenCalled();
  });

  it('makes API keys of 256 random bits and looks them up by SHA-256 only', async () => {
    const key = CredentialsService.newApiKey();
    expect(key.key).toMatch(/^upk_[A-Za-z0-9_-]{43}$/);
    expect(key.hash).toBe(createHash('sha256').update(key.key).digest('hex'));
    expect(key.prefix).toBe(key.key.slice(0, 12));
    expect(CredentialsService.newApiKey().key).not.toBe(key.key);
    const { credentials, tenants } = service({ [key.hash]: { tenantId: 't1', apiKeyId: 'k1' } });
    await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toEqual({ kind: 'tenant', tenantId: 't1', apiKeyId: 'k1' });
    expect(tenants.findByHash).toHaveBeenCalledWith(key.hash);
    await expect(credentials.authenticate(`Bearer ${CredentialsService.newApiKey().key}`)).resolves.toBeNull();
  });

  it('issues user tokens bound to one tenant and owner that verify until they expire', async () => {
    const { credentials } = service();
    const { token, expiresAt } = credentials.issueUserToken(TENANT, 'alice', 60);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 55_000);
    await expect(credentials.authenticate(`Bearer ${token}`)).resolves.toEqual({ kind: 'user', tenantId: TENANT, ownerId: 'alice' });
    const old = credentials.issueUserToken(TENANT, 'alice', 60, new Date(Date.now() - 120_000));
    await expect(credentials.authenticate(`Bearer ${old.token}`)).resolves.toBeNull();
  });

  it('refuses a token signed with the right key but not as this API issues them: no expiry, a lifetime past the longest, no tenant id', async () => {
    const { credentials } = service();
    const sign = (claims: object) => jwt.sign(claims, config.TOKEN_SIGNING_SECRET, { algorithm: 'HS256', audience: 'upload-platform:user' });
    const iat = Math.floor(Date.now() / 1000);
    await expect(credentials.authenticate(`Bearer ${sign({ sub: 'alice', tid: TENANT, iat, exp: iat + 60 })}`)).resolves.toMatchObject({ kind: 'user' });
    for (const claims of [
      { sub: 'alice', tid: TENANT, iat },
      { sub: 'alice', tid: TENANT, iat, exp: iat + 8 * 24 * 3600 },
      { sub: 'alice', tid: 'not-a-tenant-id', iat, exp: iat + 60 },
    ]) {
      await expect(credentials.authenticate(`Bearer ${sign(claims)}`)).resolves.toBeNull();
    }
  });

  it('refuses tokens signed with another key or algorithm', async () => {
    const { credentials } = service();
    const other = new CredentialsService(
      { ...config, TOKEN_SIGNING_SECRET: 'another-secret-0123456789abcdef0123456789' },
      {} as ApiKeyRepository,
      {} as TenantRepository,
    );
    const { token } = other.issueUserToken('t1', 'alice', 60);
    await expect(credentials.authenticate(`Bearer ${token}`)).resolves.toBeNull();
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"alice","tid":"t1","aud":"upload-platform:user"}').toString('base64url')}.`;
    await expect(credentials.authenticate(`Bearer ${unsigned}`)).resolves.toBeNull();
  });

  it('remembers an API key lookup for API_KEY_CACHE_SECONDS, so a revoked key stops working within it', async () => {
    const key = CredentialsService.newApiKey();
    const keys: Record<string, KeyRow> = { [key.hash]: { tenantId: 't1', apiKeyId: 'k1' } };
    const { credentials, tenants } = service(keys, 1);
    for (let i = 0; i < 3; i++) await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toMatchObject({ tenantId: 't1' });
    expect(tenants.findByHash).toHaveBeenCalledTimes(1);
    delete keys[key.hash]; // revoked: still accepted from the cache, then refused once it expired
    await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toMatchObject({ tenantId: 't1' });
    // lru-cache keeps its own clock (performance.now at load), which jest's fake timers do not reach.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toBeNull();
    expect(tenants.findByHash).toHaveBeenCalledTimes(2);
  });

  it('asks the database every time when the cache is off', async () => {
    const key = CredentialsService.newApiKey();
    const { credentials, tenants } = service({ [key.hash]: { tenantId: 't1', apiKeyId: 'k1' } }, 0);
    await credentials.authenticate(`Bearer ${key.key}`);
    await credentials.authenticate(`Bearer ${key.key}`);
    expect(tenants.findByHash).toHaveBeenCalledTimes(2);
  });

  it('refuses a key past its expiry (the end of a rotation grace) at once, even from the cache', async () => {
    const key = CredentialsService.newApiKey();
    const expiresAt = new Date(Date.now() + 300);
    const { credentials, apiKeys } = service({ [key.hash]: { tenantId: 't1', apiKeyId: 'k1', expiresAt } }, 60);
    await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toMatchObject({ kind: 'tenant', apiKeyId: 'k1' });
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(credentials.authenticate(`Bearer ${key.key}`)).resolves.toBeNull();
    // The refusal came from the cached lookup's expiry, not from a new lookup.
    expect(apiKeys.findByHash).toHaveBeenCalledTimes(1);
  });

  it('records a key use at most once a minute per key, off the request path, and not when the database saw one within the minute', async () => {
    const fresh = CredentialsService.newApiKey();
    const seen = CredentialsService.newApiKey();
    const { credentials, apiKeys } = service(
      {
        [fresh.hash]: { tenantId: 't1', apiKeyId: 'k-fresh', lastUsedAt: null },
        [seen.hash]: { tenantId: 't1', apiKeyId: 'k-seen', lastUsedAt: new Date(Date.now() - 10_000) },
      },
      0,
    );
    for (let i = 0; i < 3; i++) {
      await credentials.authenticate(`Bearer ${fresh.key}`);
      await credentials.authenticate(`Bearer ${seen.key}`);
    }
    expect(apiKeys.touch.mock.calls).toEqual([['k-fresh']]);
  });

  it("refuses a user token once its tenant is being deleted (within the cache window), and remembers the tenant's state meanwhile", async () => {
    const { credentials, activeTenants, active } = service({}, 1);
    const { token } = credentials.issueUserToken(TENANT, 'alice', 60);
    await expect(credentials.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'user', tenantId: TENANT });
    await expect(credentials.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ kind: 'user' });
    expect(activeTenants.isActive).toHaveBeenCalledTimes(1);
    active.delete(TENANT);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await expect(credentials.authenticate(`Bearer ${token}`)).resolves.toBeNull();
    expect(activeTenants.isActive).toHaveBeenCalledTimes(2);
  });

  it('never asks about the tenant of a user token that does not verify', async () => {
    const { credentials, activeTenants } = service();
    await expect(credentials.authenticate('Bearer not-a-jwt')).resolves.toBeNull();
    expect(activeTenants.isActive).not.toHaveBeenCalled();
  });
});
