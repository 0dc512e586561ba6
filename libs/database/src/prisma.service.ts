import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG } from '@app/config';
import type { DatabaseEnv } from '@app/config';
import { PrismaClient } from './generated/prisma/client';

/**
 * The Prisma client, running on the pg driver adapter (no Rust query engine; see
 * docs/adr/0002-prisma-6-19-offline.md). Services use repositories built on it, not raw SQL.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(@Inject(APP_CONFIG) config: DatabaseEnv) {
    super({
      adapter: new PrismaPg({
        connectionString: config.DATABASE_URL,
        max: config.DATABASE_POOL_MAX,
        // Fail fast when Postgres is unreachable instead of queueing behind a dead pool.
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
      }),
    });
  }

  /** Last of all: queue workers and the SQS consumer drain (beforeApplicationShutdown) with the pool open. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
