import { Injectable, Optional } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import { PrismaService } from './prisma.service';

/**
 * The database pool's use, read at every scrape (docs/database-pools.md sizes the pools): a pool
 * at its max with queries waiting is where latency comes from before Postgres is busy. Without
 * the observability module (a test of the repositories alone) nothing is registered.
 */
@Injectable()
export class PoolMetrics {
  constructor(prisma: PrismaService, @Optional() metrics?: MetricsService) {
    if (!metrics) return;
    metrics.gauge('db_pool_connections', "This process's database connections, by state (active: running a query, idle)", ['state'], (gauge) => {
      const use = prisma.poolUse();
      gauge.set({ state: 'active' }, use.active);
      gauge.set({ state: 'idle' }, use.idle);
      return Promise.resolve();
    });
    metrics.gauge('db_pool_max_connections', 'The most connections the pool opens (DATABASE_POOL_MAX)', [], (gauge) => {
      gauge.set(prisma.poolUse().max);
      return Promise.resolve();
    });
    metrics.gauge('db_pool_waiting_requests', 'Queries waiting for a connection of the pool', [], (gauge) => {
      gauge.set(prisma.poolUse().waiting);
      return Promise.resolve();
    });
  }
}
