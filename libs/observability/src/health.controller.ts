import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { DEPENDENCY_CHECKS, DependencyCheck } from './dependency-check';
import { Lifecycle } from './lifecycle';

/** A hung dependency must fail readiness quickly, not hang the probe. */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    @Inject(DEPENDENCY_CHECKS) private readonly checks: DependencyCheck[],
  ) {}

  /** The process is alive and its event loop answers. Never depends on outside systems. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Every dependency this service uses, checked for real on each call. 503 when any is down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const dependencyChecks = this.checks.map((dependency) => async () => {
      const indicator = this.indicators.check(dependency.name);
      const started = performance.now();
      try {
        const details = await withTimeout(dependency.check(), CHECK_TIMEOUT_MS);
        return indicator.up({ latencyMs: Math.round(performance.now() - started), ...(details ?? {}) });
      } catch (error) {
        return indicator.down({ message: error instanceof Error ? error.message : String(error) });
      }
    });
    const lifecycleCheck = () => {
      const indicator = this.indicators.check('lifecycle');
      return Promise.resolve(this.lifecycle.draining ? indicator.down({ message: 'shutting down' }) : indicator.up());
    };
    try {
      return await this.health.check([lifecycleCheck, ...dependencyChecks]);
    } catch (error) {
      // Terminus reports "not ready" as a 503 exception carrying the per-check document; answer
      // that document itself so operators see which dependency is down.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      void reply.status(503);
      return error.getResponse();
    }
  }
}
