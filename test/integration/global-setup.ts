import { prepareTemplateDatabase, resetMoto, testConfig } from '@app/testing';

/**
 * Runs once before the integration tier: builds the migrated template database and checks the
 * real dependencies answer. Anything missing fails the tier loudly; nothing is skipped.
 */
export default async function globalSetup(): Promise<void> {
  const env = testConfig();
  await prepareTemplateDatabase(env.TEST_POSTGRES_URL);
  await resetMoto(env.TEST_MOTO_URL).catch((error: Error) => {
    throw new Error(`moto is not reachable at ${env.TEST_MOTO_URL} (${error.message}); scripts/test.sh starts it`);
  });
}
