import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BeforeApplicationShutdown, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { BaseEnv, SqsEnv, StorageEnv } from '@app/config';
import { bucketPosture, BucketPostureEnv } from './bucket-posture';
import { BucketPostureInspector } from './bucket-settings';
import { createS3Client, createSqsClient } from './clients';
import { objectEncryption } from './encryption';
import { KeyLayout } from './keys';
import { ObjectStorage } from './object-storage';
import { PostPolicySigner } from './post-policy';
import { FastPresigner } from './presigner';
import { S3Health, SqsHealth } from './storage.health';
import { StorageEventSource } from './storage-event-source';

/** S3: the bucket adapter, key layout, presigner and POST-policy signer. */
@Global()
@Module({
  providers: [
    { provide: S3Client, inject: [APP_CONFIG], useFactory: (c: StorageEnv) => createS3Client(c) },
    {
      provide: ObjectStorage,
      inject: [S3Client, APP_CONFIG],
      useFactory: (s3: S3Client, c: StorageEnv) => new ObjectStorage(s3, c.S3_BUCKET, { encryption: objectEncryption(c) }),
    },
    {
      provide: KeyLayout,
      inject: [APP_CONFIG],
      useFactory: (c: StorageEnv) => new KeyLayout({ objectPrefix: c.S3_OBJECT_PREFIX, variantPrefix: c.S3_VARIANT_PREFIX }),
    },
    {
      provide: FastPresigner,
      inject: [S3Client, APP_CONFIG],
      useFactory: (s3: S3Client, c: StorageEnv) =>
        new FastPresigner({
          bucket: c.S3_BUCKET,
          region: c.S3_REGION,
          // Links are for whoever uses them: clients reach storage at its public endpoint.
          endpoint: c.S3_PUBLIC_ENDPOINT ?? c.S3_ENDPOINT,
          forcePathStyle: c.S3_FORCE_PATH_STYLE,
          credentials: s3.config.credentials,
          expiresInSeconds: c.PRESIGN_EXPIRES_SECONDS,
          encryption: objectEncryption(c),
        }),
    },
    {
      provide: PostPolicySigner,
      inject: [S3Client, APP_CONFIG],
      useFactory: (s3: S3Client, c: StorageEnv) =>
        // A client of the public endpoint only signs (createPresignedPost sends nothing).
        new PostPolicySigner(c.S3_PUBLIC_ENDPOINT ? createS3Client({ ...c, S3_ENDPOINT: c.S3_PUBLIC_ENDPOINT }) : s3, {
          bucket: c.S3_BUCKET,
          expiresInSeconds: c.PRESIGN_EXPIRES_SECONDS,
          encryption: objectEncryption(c),
        }),
    },
    S3Health,
  ],
  exports: [S3Client, ObjectStorage, KeyLayout, FastPresigner, PostPolicySigner, S3Health],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(S3Client) private readonly s3: S3Client) {}

  onApplicationShutdown(): void {
    this.s3.destroy();
  }
}

/**
 * The bucket's posture and its read-back (chunk-tracker's start-up check): for an app whose schema
 * includes what the posture is built from (BucketPostureEnv). Needs StorageModule's S3Client.
 */
@Module({
  providers: [
    {
      provide: BucketPostureInspector,
      inject: [S3Client, APP_CONFIG],
      useFactory: (s3: S3Client, c: BucketPostureEnv) => new BucketPostureInspector(s3, bucketPosture(c)),
    },
  ],
  exports: [BucketPostureInspector],
})
export class BucketPostureModule {}

/** SQS: the stream of S3 event notifications (chunk-tracker only). */
@Global()
@Module({
  providers: [
    { provide: SQSClient, inject: [APP_CONFIG], useFactory: (c: SqsEnv & StorageEnv) => createSqsClient(c) },
    {
      provide: StorageEventSource,
      inject: [SQSClient, APP_CONFIG],
      useFactory: (sqs: SQSClient, c: SqsEnv & BaseEnv) =>
        new StorageEventSource(sqs, {
          queueUrl: c.SQS_QUEUE_URL,
          batchSize: c.SQS_BATCH_SIZE,
          waitTimeSeconds: c.SQS_WAIT_SECONDS,
          visibilityTimeoutSeconds: c.SQS_VISIBILITY_TIMEOUT_SECONDS,
          drainTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
          pollers: c.SQS_POLLERS,
        }),
    },
    SqsHealth,
  ],
  exports: [SQSClient, StorageEventSource, SqsHealth],
})
export class StorageEventsModule implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(SQSClient) private readonly sqs: SQSClient,
    private readonly events: StorageEventSource,
  ) {}

  /** Drain first: in-flight messages finish while the database is still connected. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.events.stop();
  }

  onApplicationShutdown(): void {
    this.sqs.destroy();
  }
}
