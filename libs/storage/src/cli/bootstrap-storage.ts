import 'reflect-metadata';
import { z } from 'zod';
import { baseEnv, ConfigError, loadConfig, sqsEnv, storageEnv, storageEventsEnv } from '@app/config';
import { bootstrapStorage, ensureBucket } from '../bootstrap';
import { subscribePushTopic } from '../push-topic';
import { createS3Client, createSqsClient } from '../clients';

/**
 * `node dist/libs/storage/src/cli/bootstrap-storage.js`: creates or converges the bucket, CORS and
 * lifecycle rule described by the environment, and what announces its objects: the SQS queue, DLQ
 * and notification, or with STORAGE_EVENTS=http-push (Ceph RGW) a push topic aimed at
 * chunk-tracker. Used by `npm run up`, the test harness and docker-compose's bootstrap container.
 */
const env = baseEnv
  .extend(storageEnv.shape)
  .extend(sqsEnv.partial({ SQS_QUEUE_URL: true }).shape)
  .extend(storageEventsEnv.shape)
  .extend({
    /** Where the storage reaches chunk-tracker's push route (without the secret, which is added). */
    STORAGE_EVENTS_PUSH_URL: z.string().url().default('http://127.0.0.1:3002/v1/storage-events'),
    STORAGE_CORS_ORIGINS: z.string().default('*'),
    SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000).default(5),
    S3_ABORT_INCOMPLETE_DAYS: z.coerce.number().int().min(1).default(7),
  });

async function main(): Promise<void> {
  const config = loadConfig(env);
  if (config.STORAGE_EVENTS === 'http-push') return bootstrapPush(config);
  if (!config.SQS_QUEUE_URL) throw new ConfigError(['SQS_QUEUE_URL: required with STORAGE_EVENTS=sqs']);
  const queueName = new URL(config.SQS_QUEUE_URL).pathname.split('/').filter(Boolean).pop();
  if (!queueName) throw new ConfigError([`SQS_QUEUE_URL: has no queue name: ${config.SQS_QUEUE_URL}`]);
  const s3 = createS3Client(config);
  const sqs = createSqsClient(config);
  try {
    const result = await bootstrapStorage(s3, sqs, {
      bucket: config.S3_BUCKET,
      queueName,
      objectPrefix: config.S3_OBJECT_PREFIX,
      maxReceiveCount: config.SQS_MAX_RECEIVE_COUNT,
      visibilityTimeoutSeconds: config.SQS_VISIBILITY_TIMEOUT_SECONDS,
      corsOrigins: config.STORAGE_CORS_ORIGINS.split(',').map((o) => o.trim()),
      abortIncompleteAfterDays: config.S3_ABORT_INCOMPLETE_DAYS,
    });
    if (result.queueUrl !== config.SQS_QUEUE_URL) {
      process.stderr.write(`warning: queue URL is ${result.queueUrl}, SQS_QUEUE_URL says ${config.SQS_QUEUE_URL}\n`);
    }
    process.stdout.write(`storage ready: bucket ${config.S3_BUCKET}, queue ${result.queueUrl}, dlq ${result.dlqUrl}\n`);
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
    await ensureBucket(s3, {
      bucket: config.S3_BUCKET,
      objectPrefix: config.S3_OBJECT_PREFIX,
      corsOrigins: config.STORAGE_CORS_ORIGINS.split(',').map((o) => o.trim()),
      abortIncompleteAfterDays: config.S3_ABORT_INCOMPLETE_DAYS,
    });
    const url = new URL(config.STORAGE_EVENTS_PUSH_URL);
    url.searchParams.set('access_token', secret);
    const topic = await subscribePushTopic(s3, {
      bucket: config.S3_BUCKET,
      objectPrefix: config.S3_OBJECT_PREFIX,
      topicName: `${config.S3_BUCKET}-events`,
      pushEndpoint: url.toString(),
    });
    process.stdout.write(`storage ready: bucket ${config.S3_BUCKET}, events pushed by topic ${topic} to ${config.STORAGE_EVENTS_PUSH_URL}\n`);
  } finally {
    s3.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bootstrap-storage: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
