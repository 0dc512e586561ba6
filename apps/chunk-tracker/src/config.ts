import { z } from 'zod';
import { baseEnv, cdnEnv, databaseEnv, mediaEnv, port, reconcileEnv, redisEnv, retentionEnv, sqsEnv, storageEnv, storageEventsEnv } from '@app/config';
import { refineBucketPosture } from '@app/storage';

export const trackerEnv = baseEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(storageEnv.shape)
  .extend(sqsEnv.shape)
  .extend(storageEventsEnv.shape)
  // Only the SQS source needs a queue; a deployment on RGW (STORAGE_EVENTS=http-push) has none.
  .extend({ SQS_QUEUE_URL: sqsEnv.shape.SQS_QUEUE_URL.optional() })
  .extend(retentionEnv.shape)
  .extend(reconcileEnv.shape)
  // What the bucket's posture is built from, so the tracker can compare the bucket with it
  // (bucket-posture-check.ts): where the CDN reads from, and the prefix it must not.
  .extend(cdnEnv.pick({ CDN: true, CDN_CLOUDFRONT_DISTRIBUTION_ARN: true, CDN_ORIGIN_SOURCE_CIDRS: true }).shape)
  .extend(mediaEnv.pick({ S3_QUARANTINE_PREFIX: true }).shape)
  .extend({
    /** How often the bucket is read back again after the check at start; 0: only at start. */
    BUCKET_POSTURE_CHECK_SECONDS: z.coerce.number().int().min(0).default(900),
  })
  .extend({ CHUNK_TRACKER_PORT: port.default(3002) })
  .superRefine((c, ctx) => {
    refineBucketPosture(c, ctx);
    if (c.STORAGE_EVENTS === 'sqs' && !c.SQS_QUEUE_URL)
      ctx.addIssue({ code: 'custom', path: ['SQS_QUEUE_URL'], message: 'is required with STORAGE_EVENTS=sqs' });
    if (c.STORAGE_EVENTS === 'http-push' && !c.STORAGE_EVENTS_PUSH_SECRETS.length)
      ctx.addIssue({ code: 'custom', path: ['STORAGE_EVENTS_PUSH_SECRETS'], message: 'is required with STORAGE_EVENTS=http-push' });
  });

export type TrackerConfig = z.infer<typeof trackerEnv>;
