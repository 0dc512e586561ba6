import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FILE_STATUSES } from '@app/contracts';

describe('the database and the contracts', () => {
  it("store exactly the contracts' status names in the file_status enum (a new status needs its migration)", () => {
    const schema = readFileSync(path.join(__dirname, '../../../prisma/schema.prisma'), 'utf8');
    const block = /enum FileStatus \{([^}]*)\}/.exec(schema)?.[1] ?? '';
    const values = block
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[a-z_]+$/.test(line));
    expect(values).toEqual([...FILE_STATUSES]);
  });
});
