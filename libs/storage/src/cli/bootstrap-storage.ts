import 'reflect-metadata';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { baseEnv, cdnEnv, ConfigError, loadConfig, mediaEnv, sqsEnv, storageEnv, storageEventsEnv } from '@app/config';
import { bootstrapStorage, ensureBucket } from '../bootstrap';
import { BucketPosture, bucketPosture, describePosture, refineBucketPosture } from '../bucket-posture';
import { BucketPostureInspector } from '../bucket-settings';
import { subscribePushTopic } from '../push-topic';
import { createS3Client, createSqsClient } from '../clients';

/**
 * `node dist/libs/storage/src/cli/bootstrap-storage.js`: creates or converges the bucket and its
 * posture described by the environment (Block Public Access, default encryption, the policy, CORS,
 * the lifecycle rule; docs/adr/0024-private-bucket.md), and what announces its objects: the SQS
 * queue, DLQ and notification, or with STORAGE_EVENTS=http-push (Ceph RGW) a push topic aimed at
 * chunk-tracker. Used by `npm run up`, the test harness and docker-compose's bootstrap container.
 */
const env = baseEnv
  .extend(storageEnv.shape)
  .extend(sqsEnv.partial({ SQS_QUEUE_URL: true }).shape)
  .extend(storageEventsEnv.shape)
  // The bucket policy lets the CDN read the delivery prefixes, never the quarantine prefix.
  .extend(cdnEnv.pick({ CDN: true, CDN_CLOUDFRONT_DISTRIBUTION_ARN: true, CDN_ORIGIN_SOURCE_CIDRS: true }).shape)
  .extend(mediaEnv.pick({ S3_QUARANTINE_PREFIX: true }).shape)
  .extend({
    /** Where the storage reaches chunk-tracker's push route (without the secret, which is added). */
    STORAGE_EVENTS_PUSH_URL: z.string().url().default('http://127.0.0.1:3002/v1/storage-events'),
    SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000).default(5),
  })
  .superRefine(refineBucketPosture);

async function main(): Promise<void> {
  const config = loadConfig(env);
  if (config.STORAGE_EVENTS === 'http-push') return bootstrapPush(config);
  if (!config.SQS_QUEUE_URL) throw new ConfigError(['SQS_QUEUE_URL: required with STORAGE_EVENTS=sqs']);
  const queueName = new URL(config.SQS_QUEUE_URL).pathname.split('/').filter(Boolean).pop();
  if (!queueName) throw new ConfigError([`SQS_QUEUE_URL: has no queue name: ${config.SQS_QUEUE_URL}`]);
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  try {
    const posture = bucketPosture(config);
    const result = await bootstrapStorage(s3, sqs, {
      ...posture,
      queueName,
      maxReceiveCount: config.SQS_MAX_RECEIVE_COUNT,
      visibilityTimeoutSeconds: config.SQS_VISIBILITY_TIMEOUT_SECONDS,
    });
    if (result.queueUrl !== config.SQS_QUEUE_URL) {
      process.stderr.write(`warning: queue URL is ${result.queueUrl}, SQS_QUEUE_URL says ${config.SQS_QUEUE_URL}\n`);
    }
    await reportDrift(s3, posture);
    process.stdout.write(`storage ready: bucket ${config.S3_BUCKET} (${describePosture(posture)}), queue ${result.queueUrl}, dlq ${result.dlqUrl}\n`);
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

/** The bucket, and a push topic sending its events to chunk-tracker with the first push secret. */
async function bootstrapPush(config: z.infer<typeof env>): Promise<void> {
  const [secret] = config.STORAGE_EVENTS_PUSH_SECRETS;
  if (!secret) throw new ConfigError(['STORAGE_EVENTS_PUSH_SECRETS: required with STORAGE_EVENTS=http-push']);
  const s3 = createS3Client(config);
  try {
    const posture = bucketPosture(config);
    await ensureBucket(s3, posture);
    await reportDrift(s3, posture);
    const url = new URL(config.STORAGE_EVENTS_PUSH_URL);
    url.searchParams.set('access_token', secret);
    const topic = await subscribePushTopic(s3, {
      bucket: config.S3_BUCKET,
      objectPrefix: config.S3_OBJECT_PREFIX,
      topicName: `${config.S3_BUCKET}-events`,
      pushEndpoint: url.toString(),
    });
    process.stdout.write(
      `storage ready: bucket ${config.S3_BUCKET} (${describePosture(posture)}), events pushed by topic ${topic} to ${config.STORAGE_EVENTS_PUSH_URL}\n`,
    );
  } finally {
    s3.destroy();
  }
}

/**
 * Reads the settings back, as chunk-tracker will at start: what still differs after converging
 * (storage that ignored or rewrote a setting) is said here, where it was set, not only in a log.
 */
async function reportDrift(s3: S3Client, posture: BucketPosture): Promise<void> {
  const report = await new BucketPostureInspector(s3, posture).inspect();
  for (const d of report.drift) process.stderr.write(`warning: bucket ${posture.bucket}: ${d.setting}: ${d.problem}\n`);
  for (const u of report.unreadable) process.stderr.write(`warning: bucket ${posture.bucket}: cannot read ${u.setting} back: ${u.message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bootstrap-storage: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
