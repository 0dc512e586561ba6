import { existsSync } from 'node:fs';
import path from 'node:path';
import { prepareTemplateDatabase, resetMoto, testConfig } from '@app/testing';

/** The e2e tier runs the services from dist/; scripts/test.sh builds it before running jest. */
export default async function globalSetup(): Promise<void> {
  const main = path.resolve(__dirname, '../../dist/apps/upload-api/src/main.js');
  if (!existsSync(main)) throw new Error(`no build at ${main}: run \`npm run build\` (npm test does it)`);
  const env = testConfig();
  await prepareTemplateDatabase(env.TEST_POSTGRES_URL);
  await resetMoto(env.TEST_MOTO_URL);
}
