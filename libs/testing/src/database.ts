import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repositoryRoot } from './root';
import { promisify } from 'node:util';
import { Client } from 'pg';

const ROOT = repositoryRoot();

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, run: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    // Loud on purpose: the integration tier must fail, never skip, without a real Postgres.
    throw new Error(
      `Postgres is not reachable at ${new URL(adminUrl).host}: ${(error as Error).message}. The integration and e2e tiers need a real Postgres (scripts/test.sh starts the machine's).`,
      { cause: error },
    );
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const templateName = (checksum: string) => `upl_test_template_${checksum}`;

async function migrationsChecksum(): Promise<string> {
  const dir = path.join(ROOT, 'prisma/migrations');
  const hash = createHash('sha256');
  for (const entry of (await readdir(dir)).sort()) {
    if (entry.endsWith('.toml')) continue;
    hash.update(entry).update(await readFile(path.join(dir, entry, 'migration.sql')));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds (once per migration set) a template database with every migration applied by
 * `prisma migrate deploy`, the same command production runs. Test files clone it, which takes
 * milliseconds, instead of migrating a database each.
 */
export async function prepareTemplateDatabase(adminUrl: string): Promise<string> {
  const checksum = await migrationsChecksum();
  // Named by the migration set: two checkouts with different schemas (a CI clone and a working
  // tree) can run tests at once without rebuilding each other's template.
  const TEMPLATE = templateName(checksum);
  const current = await admin(adminUrl, async (c) => {
    const r = await c.query<{ comment: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`, [
      TEMPLATE,
    ]);
    return r.rowCount ? (r.rows[0]?.comment ?? '') : null;
  });
  if (current === checksum) return TEMPLATE;
  await admin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE}`);
  });
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/prisma/build/index.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: withDatabase(adminUrl, TEMPLATE) },
  });
  await admin(adminUrl, (c) => c.query(`COMMENT ON DATABASE ${TEMPLATE} IS '${checksum}'`));
  return TEMPLATE;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, cloned from the template. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  return createDatabase(adminUrl, templateName(await migrationsChecksum()));
}

/** A database with nothing in it, not even Prisma's migration table: where a first deploy starts. */
export function createEmptyDatabase(adminUrl: string): Promise<TestDatabase> {
  return createDatabase(adminUrl, 'template0');
}

async function createDatabase(adminUrl: string, template: string): Promise<TestDatabase> {
  const name = `upl_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
