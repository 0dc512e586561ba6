import { createTestDatabase, prepareTemplateDatabase } from '@app/testing';

describe('test harness', () => {
  // The integration tier must fail, not skip, when Postgres is down (issue #2, acceptance 2).
  it('fails loudly when Postgres is not reachable', async () => {
    const closedPort = 'postgresql://postgres@127.0.0.1:1/postgres';
    await expect(prepareTemplateDatabase(closedPort)).rejects.toThrow(/Postgres is not reachable at 127\.0\.0\.1:1/);
    await expect(createTestDatabase(closedPort)).rejects.toThrow(/Postgres is not reachable/);
  });
});

describe('migrations', () => {
  // The WASM schema engine splits scripts on ';' and quotes naively: one inside a comment
  // breaks `migrate deploy` (docs/adr/0002-prisma-6-19-offline.md).
  it('have no semicolon or quote inside a comment', () => {
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    const path = jest.requireActual<typeof import('node:path')>('node:path');
    const dir = path.resolve(__dirname, '../../prisma/migrations');
    const offending = fs
      .readdirSync(dir)
      .filter((d) => fs.existsSync(path.join(dir, d, 'migration.sql')))
      .flatMap((d) =>
        fs
          .readFileSync(path.join(dir, d, 'migration.sql'), 'utf8')
          .split('\n')
          .filter((line) => /--.*[;']/.test(line))
          .map((line) => `${d}: ${line}`),
      );
    expect(offending).toEqual([]);
  });
});
