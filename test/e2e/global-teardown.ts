import { resetMoto, testConfig } from '@app/testing';

export default async function globalTeardown(): Promise<void> {
  await resetMoto(testConfig().TEST_MOTO_URL).catch(() => undefined);
}
