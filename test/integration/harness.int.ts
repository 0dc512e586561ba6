import { createTestDatabase, prepareTemplateDatabase } from '@app/testing';

describe('test harness', () => {
  // The integration tier must fail, not skip, when Postgres is down (issue #2, acceptance 2).
  it('fails loudly when Postgres is not reachable', async () => {
    const closedPort = 'postgresql://postgres@127.0.0.1:1/postgres';
    await expect(prepareTemplateDatabase(closedPort)).rejects.toThrow(/Postgres is not reachable at 127\.0\.0\.1:1/);
    await expect(createTestDatabase(closedPort)).rejects.toThrow(/Postgres is not reachable/);
  });
});
