import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, types } from 'pg';
import { APP_CONFIG } from '@app/config';
import type { DatabaseEnv } from '@app/config';
import { Prisma, PrismaClient } from './generated/prisma/client';

const INT8_OID = 20;
const parseInt8 = (value: string): bigint => BigInt(value);

/** How `direct` parses columns: int8 as bigint, as Prisma returns it; the rest as pg does. */
const READ_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? parseInt8 : (types.getTypeParser(oid, format ?? 'text') as unknown)) as typeof types.getTypeParser,
};

/**
 * The Prisma client, running on the pg driver adapter (no Rust query engine; see
 * docs/adr/0002-prisma-6-19-offline.md), over a pg pool this service owns. Services use
 * repositories built on it, not raw SQL.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(@Inject(APP_CONFIG) config: Pick<DatabaseEnv, 'DATABASE_URL' | 'DATABASE_POOL_MAX'>) {
    const pool = new Pool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_MAX,
      // Fail fast when Postgres is unreachable instead of queueing behind a dead pool.
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
  }

  /**
   * One statement straight through pg, on the same pool, committing on its own: for the
   * statements every request or storage event runs (finding an upload, a tenant, a page of files,
   * and an initiation, which is one statement: ADR 0015). Even a raw query through Prisma passes
   * its query interpreter (WebAssembly), which cost more CPU than the query in the control-plane
   * profile (docs/benchmarks.md). Columns come back as `$queryRaw` returns them.
   */
  async direct<T>(sql: Prisma.Sql): Promise<T[]> {
    const { rows } = await this.pool.query<T & object>({ text: sql.text, values: sql.values, types: READ_TYPES });
    return rows;
  }

  /** The pool's connections now: in use, idle, the most it opens, and the queries waiting for one. */
  poolUse(): { active: number; idle: number; max: number; waiting: number } {
    return {
      active: this.pool.totalCount - this.pool.idleCount,
      idle: this.pool.idleCount,
      max: this.pool.options.max ?? 10,
      waiting: this.pool.waitingCount,
    };
  }

  /** Last of all: queue workers and the SQS consumer drain (beforeApplicationShutdown) with the pool open. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    // $disconnect ends the pool only through an adapter Prisma connected: a process that ran only
    // `direct` statements (an API-key lookup, a page of files) would leave its connections open.
    if (!this.pool.ending) await this.pool.end();
  }
}
