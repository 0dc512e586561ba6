import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG } from '@app/config';
import type { RateLimitEnv } from '@app/config';
import { DomainError } from '@app/contracts';
import { SHARED_REDIS } from '@app/queue';
import type { AuthenticatedRequest } from './access';

/**
 * Requests per minute per credential, counted in Redis so every replica shares the budget
 * (rate-limiter-flexible). While Redis is unreachable an in-process limiter stands in, so an
 * outage loosens limits per replica instead of failing every request. Runs after AuthGuard.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private readonly limiter: RateLimiterRedis | null;

  constructor(@Inject(APP_CONFIG) config: RateLimitEnv, @Inject(SHARED_REDIS) redis: Redis) {
    const points = config.RATE_LIMIT_PER_MINUTE;
    this.limiter =
      points === 0
        ? null
        : new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: 'upl:rl',
            points,
            duration: 60,
            insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
          });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (!this.limiter || !principal || principal.kind === 'admin') return true;
    const key = principal.kind === 'tenant' ? `key:${principal.apiKeyId}` : `user:${principal.tenantId}:${principal.ownerId}`;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    try {
      const res = await this.limiter.consume(key);
      void reply.header('ratelimit-limit', String(this.limiter.points)).header('ratelimit-remaining', String(res.remainingPoints));
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.logger.warn({ err: error }, 'rate limiter unavailable; request allowed');
        return true;
      }
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      void reply.header('retry-after', String(seconds)).header('ratelimit-limit', String(this.limiter.points)).header('ratelimit-remaining', '0');
      throw new DomainError('rate_limited', `Too many requests for this credential; retry in ${seconds} s.`, { retryAfterSeconds: seconds });
    }
  }
}
