import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG } from '@app/config';
import type { RateLimitEnv } from '@app/config';
import { DomainError } from '@app/contracts';
import { SHARED_REDIS } from '@app/queue';
import type { RedisConnection } from '@app/queue';
import type { AuthenticatedRequest } from './access';

/** A per-minute budget counted in Redis, with an in-process stand-in while Redis is unreachable. */
function limiter(redis: RedisConnection, keyPrefix: string, points: number): RateLimiterRedis | null {
  if (points === 0) return null;
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: 60, insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }) });
}

/**
 * Requests per minute per credential, counted in Redis so every replica shares the budget
 * (rate-limiter-flexible). Two budgets, because the two kinds of caller differ by orders of
 * magnitude: an API key is a team's backend acting for all its users (API_KEY_RATE_LIMIT_PER_MINUTE),
 * user tokens are one owner's devices (RATE_LIMIT_PER_MINUTE, shared by all of that owner's tokens).
 * While Redis is unreachable an in-process limiter stands in, so an outage loosens limits per
 * replica instead of failing every request. Runs after AuthGuard.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly apiKeys: RateLimiterRedis | null;
  private readonly owners: RateLimiterRedis | null;

  constructor(@Inject(APP_CONFIG) config: RateLimitEnv, @Inject(SHARED_REDIS) redis: RedisConnection) {
    this.apiKeys = limiter(redis, 'upl:rl:key', config.API_KEY_RATE_LIMIT_PER_MINUTE);
    this.owners = limiter(redis, 'upl:rl:user', config.RATE_LIMIT_PER_MINUTE);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (!principal || principal.kind === 'admin') return true;
    const [budget, key] = principal.kind === 'tenant' ? [this.apiKeys, principal.apiKeyId] : [this.owners, `${principal.tenantId}:${principal.ownerId}`];
    if (!budget) return true;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      const res = await budget.consume(key);
      void reply.header('ratelimit-limit', String(budget.points)).header('ratelimit-remaining', String(res.remainingPoints));
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.logger.warn({ err: error }, 'rate limiter unavailable; request allowed');
        return true;
      }
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      void reply.header('retry-after', String(seconds)).header('ratelimit-limit', String(budget.points)).header('ratelimit-remaining', '0');
      throw new DomainError('rate_limited', `Too many requests for this credential; retry in ${seconds} s.`, { retryAfterSeconds: seconds });
    }
  }
}
