import { createTestDatabase, createTestStorage, envStrings, prepareTemplateDatabase, testConfig } from '@app/testing';

/**
 * What every benchmark that runs the services needs: its own database cloned from the migrated
 * template, a fresh bucket and queue on the bench emulator, and the services' environment in
 * production settings (`extra` adds or overrides variables).
 */
export async function benchStack(extra: Record<string, string | number> = {}) {
  const cfg = testConfig();
  await prepareTemplateDatabase(cfg.TEST_POSTGRES_URL);
  const db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
  const storageEnv = await createTestStorage(cfg.TEST_MOTO_URL);
  const env = envStrings({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: cfg.TEST_REDIS_URL,
    QUEUE_PREFIX: `bench-${db.name}`,
    ...storageEnv,
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    TOKEN_SIGNING_SECRET: 'bench-token-signing-secret-0123456789abcdef',
    ...extra,
  });
  return { cfg, db, storageEnv, env };
}
