import { z } from 'zod';
import { authEnv, baseEnv, cdnEnv, corsEnv, databaseEnv, port, rateLimitEnv, redisEnv, storageEnv, uploadsEnv } from '@app/config';
import { refineStorageEnv } from '@app/storage';

export const uploadApiEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(storageEnv.shape)
  .extend(authEnv.shape)
  .extend(uploadsEnv.shape)
  .extend(rateLimitEnv.shape)
  .extend(corsEnv.shape)
  .extend(cdnEnv.shape)
  .extend({
    UPLOAD_API_PORT: port.default(3000),
    /**
     * sync-notifier as browsers reach it: the web uploader at /app/ follows the change feed there,
     * and its Content-Security-Policy allows connections to it and to nowhere else but storage.
     */
    PUBLIC_SYNC_URL: z.string().url().default('http://127.0.0.1:3001'),
  })
  // S3_SSE and its key, reported with every other bad variable.
  .superRefine(refineStorageEnv);

export type UploadApiConfig = z.infer<typeof uploadApiEnv>;
