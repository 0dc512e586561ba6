import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { LifecycleModule } from '@app/lifecycle';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { S3Health, SqsHealth, StorageEventsModule, StorageModule } from '@app/storage';
import type { TrackerConfig } from './config';
import { CompletionService } from './completion.service';
import { HousekeepingService } from './housekeeping.service';
import { ReconcilerService } from './reconciler.service';
import { StorageEventsService } from './storage-events.service';

@Module({})
export class ChunkTrackerModule {
  static register(config: TrackerConfig): DynamicModule {
    return {
      module: ChunkTrackerModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'chunk-tracker',
          level: config.LOG_LEVEL,
          pretty: config.LOG_PRETTY,
          checks: [DatabaseHealth, RedisHealth, S3Health, SqsHealth],
        }),
        DatabaseModule,
        StorageModule,
        StorageEventsModule,
        LifecycleModule,
        QueueModule.forRoot({ serve: ['tracker'], intervals: { 'uploads.reconcile': config.RECONCILE_INTERVAL_MS } }),
      ],
      providers: [StorageEventsService, HousekeepingService, CompletionService, ReconcilerService],
    };
  }
}
