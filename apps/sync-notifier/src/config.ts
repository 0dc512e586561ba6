import { z } from 'zod';
import { authEnv, baseEnv, databaseEnv, port, rateLimitEnv, redisEnv, retentionEnv, syncEnv, webhookEnv } from '@app/config';

export const notifierEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(authEnv.shape)
  .extend(rateLimitEnv.shape)
  .extend(retentionEnv.shape)
  .extend(syncEnv.shape)
  .extend(webhookEnv.shape)
  .extend({ SYNC_NOTIFIER_PORT: port.default(3001) });

export type NotifierConfig = z.infer<typeof notifierEnv>;
