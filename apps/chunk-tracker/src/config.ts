import { z } from 'zod';
import { baseEnv, databaseEnv, port, reconcileEnv, redisEnv, retentionEnv, sqsEnv, storageEnv } from '@app/config';

export const trackerEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(storageEnv.shape)
  .extend(sqsEnv.shape)
  .extend(retentionEnv.shape)
  .extend(reconcileEnv.shape)
  .extend({ CHUNK_TRACKER_PORT: port.default(3002) });

export type TrackerConfig = z.infer<typeof trackerEnv>;
