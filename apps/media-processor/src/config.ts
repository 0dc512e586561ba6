import { z } from 'zod';
import { baseEnv, databaseEnv, mediaEnv, port, redisEnv, storageEnv } from '@app/config';
import type { QueueName } from '@app/queue';
import { refineStorageEnv } from '@app/storage';

export const mediaProcessorEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(storageEnv.shape)
  .extend(mediaEnv.shape)
  .extend({ MEDIA_PROCESSOR_PORT: port.default(3003) })
  // S3_SSE and its key, reported with every other bad variable.
  .superRefine(refineStorageEnv);

export type MediaProcessorConfig = z.infer<typeof mediaProcessorEnv>;

const QUEUE_OF_KIND = {
  verify: 'media-verify',
  scan: 'media-scan',
  image: 'media-image',
  video: 'media-video',
  transcode: 'media-transcode',
} as const satisfies Record<string, QueueName>;

/** MEDIA_QUEUES=image,video -> the BullMQ queues this deployment consumes. */
export function servedMediaQueues(config: Pick<MediaProcessorConfig, 'MEDIA_QUEUES'>): QueueName[] {
  return config.MEDIA_QUEUES.map((kind) => QUEUE_OF_KIND[kind]);
}
