import 'reflect-metadata';
import { z } from 'zod';
import { baseEnv, ConfigError, loadConfig, sqsEnv, storageEnv } from '@app/config';
import { bootstrapStorage } from '../bootstrap';
import { createS3Client, createSqsClient } from '../clients';

/**
 * `node dist/libs/storage/src/cli/bootstrap-storage.js`: creates or converges the bucket, queue,
 * DLQ, notification, CORS and lifecycle rule described by the environment. Used by `npm run up`,
 * the test harness and docker-compose's bootstrap container.
 */
const env = baseEnv
  .extend(storageEnv.shape)
  .extend(sqsEnv.shape)
  .extend({
    STORAGE_CORS_ORIGINS: z.string().default('*'),
    SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000).default(5),
    S3_ABORT_INCOMPLETE_DAYS: z.coerce.number().int().min(1).default(7),
  });

async function main(): Promise<void> {
  const config = loadConfig(env);
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

main().catch((error: unknown) => {
  process.stderr.write(`bootstrap-storage: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
