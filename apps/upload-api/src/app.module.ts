import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { S3Health, StorageModule } from '@app/storage';
import type { UploadApiConfig } from './config';

/** The HTTP API for internal teams: metadata in, presigned URLs out; never file bytes. */
@Module({})
export class UploadApiModule {
  static register(config: UploadApiConfig): DynamicModule {
    return {
      module: UploadApiModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'upload-api',
          level: config.LOG_LEVEL,
          pretty: config.LOG_PRETTY,
          checks: [DatabaseHealth, RedisHealth, S3Health],
        }),
        DatabaseModule,
        StorageModule,
        // A producer only: its jobs run in chunk-tracker and media-processor.
        QueueModule.forRoot({ serve: [] }),
      ],
    };
  }
}
