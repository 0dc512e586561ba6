import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsEnv, StorageEnv } from '@app/config';

function credentials(config: Pick<StorageEnv, 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY'>) {
  return config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
    : undefined; // the SDK's default chain: IRSA / instance profile in production
}

export function createS3Client(config: StorageEnv): S3Client {
  return new S3Client({
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials: credentials(config),
    // SDK >= 3.729 would otherwise put an empty-body CRC32 into presigned URLs, which real S3
    // then rejects for every upload (toolchain notes). Checksums are asked for explicitly instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

export function createSqsClient(config: Pick<SqsEnv, 'SQS_ENDPOINT'> & StorageEnv): SQSClient {
  return new SQSClient({
    region: config.S3_REGION,
    endpoint: config.SQS_ENDPOINT ?? config.S3_ENDPOINT,
    credentials: credentials(config),
    maxAttempts: 3,
  });
}
