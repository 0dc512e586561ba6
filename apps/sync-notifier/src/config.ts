import { z } from 'zod';
import { baseEnv, databaseEnv, port, redisEnv, retentionEnv } from '@app/config';

export const notifierEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(retentionEnv.shape)
  .extend({ SYNC_NOTIFIER_PORT: port.default(3001) });

export type NotifierConfig = z.infer<typeof notifierEnv>;
