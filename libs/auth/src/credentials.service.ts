import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG } from '@app/config';
import type { AuthEnv } from '@app/config';
import { MAX_TOKEN_TTL_SECONDS } from '@app/contracts';
import { ApiKeyRepository, TenantRepository } from '@app/database';
import type { Principal } from './principal';

const API_KEY_PREFIX = 'upk_';
const USER_TOKEN_AUDIENCE = 'upload-platform:user';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

export interface NewApiKey {
  /** Shown to the caller once. */
  key: string;
  /** What is stored: SHA-256 (hex). The key has 256 random bits, so no slow hash is needed. */
  hash: string;
  /** First characters, to recognise a key in listings and logs. */
  prefix: string;
}

interface UserTokenClaims {
  sub: string;
  tid: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A key found by its hash, as the cache keeps it: its expiry is checked on every use. */
interface KnownKey {
  tenantId: string;
  apiKeyId: string;
  /** Epoch milliseconds; null: no expiry (the tenant's current key). */
  expiresAt: number | null;
}

/** How often a key's last use is written (the database skips writes within its own minute, too). */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Turns a bearer credential into a Principal: the admin token (compared in constant time),
 * a tenant API key (looked up by hash), or a user token (a JWT signed with HS256 by this API,
 * bound to one tenant and owner, with an expiry).
 *
 * How fast a withdrawn credential stops working (issue #13): a key's expiry (the end of a
 * rotation's grace) is checked on every use, cached lookups included, so a grace ends on time. A
 * revoked key, the keys and user tokens of a tenant being deleted, and a grace shorter than the
 * cache (a lookup cached before the rotation does not know its expiry) are refused once this
 * process's cached lookup is older than API_KEY_CACHE_SECONDS (default 5 s): that is the window.
 */
@Injectable()
export class CredentialsService {
  private readonly adminDigest: Buffer;
  /**
   * API key lookups by hash, found or not, for API_KEY_CACHE_SECONDS: every request of a team's
   * backend carries its key, and the lookup was a round trip each. Bounded in entries, so random
   * keys cannot grow it.
   */
  private readonly apiKeys: LRUCache<string, { found: KnownKey | null }> | null;
  /** Whether a user token's tenant is active, for as long as API keys are cached (tokens are signed by us: no flood of ids). */
  private readonly activeTenants: LRUCache<string, { active: boolean }> | null;
  /** When each key's use was last written from this process (bounded like the key cache). */
  private readonly touched = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AuthEnv,
    private readonly keys: ApiKeyRepository,
    private readonly tenants: TenantRepository,
  ) {
    this.adminDigest = sha256(config.ADMIN_TOKEN);
    const ttl = config.API_KEY_CACHE_SECONDS * 1000;
    this.apiKeys = ttl > 0 ? new LRUCache({ max: 10_000, ttl }) : null;
    this.activeTenants = ttl > 0 ? new LRUCache({ max: 10_000, ttl }) : null;
  }

  static newApiKey(): NewApiKey {
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    return { key, hash: sha256(key).toString('hex'), prefix: key.slice(0, 12) };
  }

  issueUserToken(tenantId: string, ownerId: string, ttlSeconds: number, now = new Date()): { token: string; expiresAt: Date } {
    const iat = Math.floor(now.getTime() / 1000);
    const token = jwt.sign(
      { sub: ownerId, tid: tenantId, iat, exp: iat + ttlSeconds } satisfies UserTokenClaims & { iat: number; exp: number },
      this.config.TOKEN_SIGNING_SECRET,
      {
        algorithm: 'HS256',
        audience: USER_TOKEN_AUDIENCE,
      },
    );
    return { token, expiresAt: new Date((iat + ttlSeconds) * 1000) };
  }

  /** null for anything that is not a valid, current credential. */
  async authenticate(authorization: string | undefined): Promise<Principal | null> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return null;
    const credential = match[1];
    if (timingSafeEqual(sha256(credential), this.adminDigest)) return { kind: 'admin' };
    if (credential.startsWith(API_KEY_PREFIX)) {
      const key = await this.apiKey(sha256(credential).toString('hex'));
      if (!key || (key.expiresAt !== null && key.expiresAt <= Date.now())) return null;
      this.touch(key.apiKeyId);
      return { kind: 'tenant', tenantId: key.tenantId, apiKeyId: key.apiKeyId };
    }
    const user = this.verifyUserToken(credential);
    return user && (await this.tenantActive(user.tenantId)) ? user : null;
  }

  private async apiKey(hash: string): Promise<KnownKey | null> {
    const cached = this.apiKeys?.get(hash);
    if (cached) return cached.found;
    const match = await this.keys.findByHash(hash);
    const found = match && { tenantId: match.tenantId, apiKeyId: match.apiKeyId, expiresAt: match.expiresAt?.getTime() ?? null };
    this.apiKeys?.set(hash, { found });
    if (match?.lastUsedAt) this.touched.set(match.apiKeyId, Math.max(this.touched.get(match.apiKeyId) ?? 0, match.lastUsedAt.getTime()));
    return found;
  }

  /** A user token is only as good as its tenant: none once the tenant's deletion began. */
  private async tenantActive(tenantId: string): Promise<boolean> {
    const cached = this.activeTenants?.get(tenantId);
    if (cached) return cached.active;
    const active = await this.tenants.isActive(tenantId);
    this.activeTenants?.set(tenantId, { active });
    return active;
  }

  /**
   * The key's last use, for its listing: written at most once a minute per key from this process,
   * off the request's path (a failed write costs the request nothing and is tried at the next use).
   */
  private touch(apiKeyId: string): void {
    const now = Date.now();
    if (now - (this.touched.get(apiKeyId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.touched.set(apiKeyId, now);
    this.keys.touch(apiKeyId).catch(() => this.touched.delete(apiKeyId));
  }

  /**
   * Only tokens shaped as `issueUserToken` makes them: an expiry no further from the issue time
   * than a token may live (jsonwebtoken accepts a token without `exp` forever), and a tenant id.
   */
  private verifyUserToken(token: string): Extract<Principal, { kind: 'user' }> | null {
    try {
      const claims = jwt.verify(token, this.config.TOKEN_SIGNING_SECRET, { algorithms: ['HS256'], audience: USER_TOKEN_AUDIENCE }) as Partial<
        UserTokenClaims & { iat: number; exp: number }
      >;
      if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp - claims.iat > MAX_TOKEN_TTL_SECONDS) return null;
      if (typeof claims.sub !== 'string' || typeof claims.tid !== 'string' || !UUID.test(claims.tid)) return null;
      return { kind: 'user', tenantId: claims.tid, ownerId: claims.sub };
    } catch {
      return null;
    }
  }
}
