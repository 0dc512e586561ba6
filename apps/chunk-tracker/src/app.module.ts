import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_CONFIG, ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { LifecycleModule } from '@app/lifecycle';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { BucketPostureModule, S3Health, SqsHealth, StorageEventsModule, StorageModule } from '@app/storage';
import { BucketPostureCheck } from './bucket-posture-check';
import type { TrackerConfig } from './config';
import { CompletingGauges } from './completing-gauges';
import { CompletionService } from './completion.service';
import { HousekeepingService } from './housekeeping.service';
import { PushSecretGuard, PushSecrets } from './push-secret.guard';
import { ReconcilerService } from './reconciler.service';
import { SqsStorageEvents } from './sqs-storage-events';
import { StorageEventsPushController } from './storage-events-push.controller';
import { StorageEventsService } from './storage-events.service';

@Module({})
export class ChunkTrackerModule {
  static register(config: TrackerConfig): DynamicModule {
    // One source of storage events (docs/adr/0018-storage-events-http-push.md): SQS's consumer, or
    // the route RGW pushes to. With http-push there is no SQS client, consumer or readiness check.
    const push = config.STORAGE_EVENTS === 'http-push';
    const eventSource: Provider[] = push
      ? [{ provide: PushSecrets, inject: [APP_CONFIG], useFactory: (c: TrackerConfig) => new PushSecrets(c.STORAGE_EVENTS_PUSH_SECRETS) }, PushSecretGuard]
      : [SqsStorageEvents];
    return {
      module: ChunkTrackerModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'chunk-tracker',
          level: config.LOG_LEVEL,
          pretty: config.LOG_PRETTY,
          checks: [DatabaseHealth, RedisHealth, S3Health, ...(push ? [] : [SqsHealth])],
        }),
        DatabaseModule,
        StorageModule,
        BucketPostureModule,
        ...(push ? [] : [StorageEventsModule]),
        LifecycleModule,
        QueueModule.forRoot({ serve: ['tracker'], intervals: { 'uploads.reconcile': config.RECONCILE_INTERVAL_MS } }),
      ],
      controllers: push ? [StorageEventsPushController] : [],
      providers: [StorageEventsService, HousekeepingService, CompletionService, ReconcilerService, BucketPostureCheck, CompletingGauges, ...eventSource],
    };
  }
}
