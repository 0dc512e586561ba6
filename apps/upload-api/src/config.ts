import { z } from 'zod';
import { authEnv, baseEnv, corsEnv, databaseEnv, port, rateLimitEnv, redisEnv, storageEnv, uploadsEnv } from '@app/config';

export const uploadApiEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(storageEnv.shape)
  .extend(authEnv.shape)
  .extend(uploadsEnv.shape)
  .extend(rateLimitEnv.shape)
  .extend(corsEnv.shape)
  .extend({ UPLOAD_API_PORT: port.default(3000) });

export type UploadApiConfig = z.infer<typeof uploadApiEnv>;
