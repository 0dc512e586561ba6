import { z } from 'zod';
import { loadConfig } from '@app/config';

/**
 * Where the integration, e2e and conformance tiers find their real dependencies. scripts/test.sh starts them;
 * defaults match the machine services of the toolchain notes and the test moto on port 5057
 * (apart from the dev stack's 5055, so a test reset never wipes a developer's data).
 */
const testEnv = z.object({
  TEST_POSTGRES_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/postgres'),
  TEST_REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /**
   * The Redis of the e2e tier's services: scripts/test.sh starts a three-master Redis Cluster for
   * them (TEST_E2E_REDIS_CLUSTER=true), so the whole tier runs on what production scales out on.
   * Unset: TEST_REDIS_URL, standalone.
   */
  TEST_E2E_REDIS_URL: z.string().url().optional(),
  TEST_E2E_REDIS_CLUSTER: z.enum(['true', 'false']).default('false'),
  /**
   * A PgBouncer in transaction mode in front of TEST_POSTGRES_URL's server: the e2e tier's services
   * connect through it (scripts/test.sh starts it). Unset: straight to Postgres.
   */
  TEST_E2E_PGBOUNCER_PORT: z.coerce.number().int().positive().optional(),
  TEST_MOTO_URL: z.string().url().default('http://127.0.0.1:5057'),
  /**
   * The conformance tier's S3: a throwaway Ceph RGW (scripts/rgw.sh) that, unlike moto, enforces
   * presigned-URL signatures, expiry and signed headers. scripts/test.sh starts it with this user.
   */
  TEST_RGW_URL: z.string().url().default('http://127.0.0.1:5078'),
  TEST_RGW_ACCESS_KEY_ID: z.string().min(1).default('conformance-access-key'),
  TEST_RGW_SECRET_ACCESS_KEY: z.string().min(1).default('conformance-secret-key'),
});

export type TestEnv = z.infer<typeof testEnv>;

export const testConfig = (): TestEnv => loadConfig(testEnv);
