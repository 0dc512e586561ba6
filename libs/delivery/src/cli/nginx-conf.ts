import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { cdnEnv, ConfigError, loadConfig, storageEnv } from '@app/config';
import { renderNginxConf, storageOrigin } from '../nginx-conf';

/**
 * `node dist/libs/delivery/src/cli/nginx-conf.js <state-dir>`: writes <state-dir>/nginx.conf for the
 * local CDN from the environment (`CDN=nginx npm run up`, scripts/stack.sh), from the same template
 * and values the e2e tier's nginx gets.
 */
const env = storageEnv.extend(cdnEnv.shape).extend({ CDN_PORT: z.coerce.number().int().min(1).max(65535).default(8089) });

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: nginx-conf <state-dir>');
  const config = loadConfig(env);
  if (!config.CDN_NGINX_SECRET) throw new ConfigError(['CDN_NGINX_SECRET: required with CDN=nginx']);
  const stateDir = path.resolve(dir);
  mkdirSync(path.join(stateDir, 'cache'), { recursive: true });
  const conf = renderNginxConf({
    CDN_LISTEN: `127.0.0.1:${config.CDN_PORT}`,
    CDN_STATE_DIR: stateDir,
    CDN_NGINX_SECRET: config.CDN_NGINX_SECRET,
    S3_VARIANT_PREFIX: config.S3_VARIANT_PREFIX,
    ...storageOrigin(config),
  });
  writeFileSync(path.join(stateDir, 'nginx.conf'), conf);
  process.stdout.write(`${path.join(stateDir, 'nginx.conf')}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`nginx-conf: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
