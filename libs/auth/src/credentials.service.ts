import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG } from '@app/config';
import type { AuthEnv } from '@app/config';
import { MAX_TOKEN_TTL_SECONDS } from '@app/contracts';
import { TenantRepository } from '@app/database';
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

/**
 * Turns a bearer credential into a Principal: the admin token (compared in constant time),
 * a tenant API key (looked up by hash), or a user token (a JWT signed with HS256 by this API,
 * bound to one tenant and owner, with an expiry).
 */
@Injectable()
export class CredentialsService {
  private readonly adminDigest: Buffer;
  /**
   * API key lookups by hash, found or not, for API_KEY_CACHE_SECONDS: every request of a team's
   * backend carries its key, and the lookup was a round trip each. Bounded in entries, so random
   * keys cannot grow it.
   */
  private readonly apiKeys: LRUCache<string, { found: { tenantId: string; apiKeyId: string } | null }> | null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AuthEnv,
    private readonly tenants: TenantRepository,
  ) {
    this.adminDigest = sha256(config.ADMIN_TOKEN);
    this.apiKeys = config.API_KEY_CACHE_SECONDS > 0 ? new LRUCache({ max: 10_000, ttl: config.API_KEY_CACHE_SECONDS * 1000 }) : null;
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
      return key ? { kind: 'tenant', tenantId: key.tenantId, apiKeyId: key.apiKeyId } : null;
    }
    return this.verifyUserToken(credential);
  }

  private async apiKey(hash: string): Promise<{ tenantId: string; apiKeyId: string } | null> {
    const cached = this.apiKeys?.get(hash);
    if (cached) return cached.found;
    const found = await this.tenants.findByApiKeyHash(hash);
    this.apiKeys?.set(hash, { found });
    return found;
  }

  /**
   * Only tokens shaped as `issueUserToken` makes them: an expiry no further from the issue time
   * than a token may live (jsonwebtoken accepts a token without `exp` forever), and a tenant id.
   */
  private verifyUserToken(token: string): Principal | null {
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
