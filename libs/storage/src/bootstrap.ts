import { CreateBucketCommand, GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { BucketPosture } from './bucket-posture';
import { applyBucketPosture } from './bucket-settings';

/** The bucket's posture (bucketPosture() of the environment) and the queue that hears of its objects. */
export interface StorageBootstrapOptions extends BucketPosture {
  queueName: string;
  /** Deliveries before a message is moved to the DLQ. */
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
}

export interface StorageBootstrapResult {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
}

/**
 * Creates (or converges) the bucket and its posture (ensureBucket), the SQS queue and its DLQ, and
 * the S3 -> SQS notification on the object prefix. Every step is idempotent, so running it on every
 * `npm run up` or deploy changes nothing the second time. Where infrastructure code owns the
 * production bucket instead, it must set the same posture: chunk-tracker reports any difference at
 * start (docs/adr/0024-private-bucket.md).
 */
export async function bootstrapStorage(s3: S3Client, sqs: SQSClient, o: StorageBootstrapOptions): Promise<StorageBootstrapResult> {
  const dlqUrl = await ensureQueue(sqs, `${o.queueName}-dlq`, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queueUrl = await ensureQueue(sqs, o.queueName, {
    VisibilityTimeout: String(o.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(4 * 24 * 3600),
    ReceiveMessageWaitTimeSeconds: '20',
  });
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: {
        VisibilityTimeout: String(o.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount }),
      },
    }),
  );
  const arn = await queueArn(sqs, queueUrl);

  await ensureBucket(s3, o);

  const notification = {
    QueueConfigurations: [
      {
        Id: 'upload-events',
        QueueArn: arn,
        Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as const,
        Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: o.objectPrefix }] } },
      },
    ],
  };
  // Re-putting an unchanged configuration would make S3 send another s3:TestEvent; skip it.
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: o.bucket }));
  const configured = current.QueueConfigurations?.some((q) => q.QueueArn === arn && q.Filter?.Key?.FilterRules?.some((r) => r.Value === o.objectPrefix));
  if (!configured) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: o.bucket,
        NotificationConfiguration: { QueueConfigurations: notification.QueueConfigurations.map((q) => ({ ...q, Events: [...q.Events] })) },
      }),
    );
  }

  return { queueUrl, queueArn: arn, dlqUrl };
}

/**
 * The bucket and its posture (bucket-posture.ts: Block Public Access, default encryption, the
 * policy, CORS for browser uploads, the lifecycle rule), whatever announces its events (an SQS
 * queue here, a push topic with subscribePushTopic). Idempotent.
 */
export async function ensureBucket(s3: S3Client, posture: BucketPosture): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: posture.bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
  await applyBucketPosture(s3, posture);
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const existing = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (existing.QueueUrl) return existing.QueueUrl;
  } catch (error) {
    const n = (error as { name?: string }).name ?? '';
    if (!/NonExistentQueue|QueueDoesNotExist/.test(n)) throw error;
  }
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!created.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return created.QueueUrl;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}
