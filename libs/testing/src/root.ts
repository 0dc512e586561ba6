import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root, whether this code runs from source (jest) or from dist/ (benchmarks). */
export function repositoryRoot(from = __dirname): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'prisma', 'schema.prisma'))) return dir;
  }
  throw new Error(`no repository root above ${from}`);
}
