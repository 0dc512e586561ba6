import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { LifecycleModule } from '@app/lifecycle';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { S3Health, StorageModule } from '@app/storage';
import { MediaProcessorConfig, servedMediaQueues } from './config';
import { ImageService } from './image.service';
import { MediaRouter } from './media-router';
import { VariantStore } from './variant-store';
import { ReprocessService } from './reprocess.service';
import { ScanService } from './scan.service';
import { TranscodeService } from './transcode.service';
import { VideoService } from './video.service';
import { VerifyService } from './verify.service';

/**
 * Content work after storage confirms a file. Each kind of work has its own queue; MEDIA_QUEUES
 * chooses which this deployment serves, so image and video workers scale apart.
 */
@Module({})
export class MediaProcessorModule {
  static register(config: MediaProcessorConfig): DynamicModule {
    return {
      module: MediaProcessorModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'media-processor',
          level: config.LOG_LEVEL,
          pretty: config.LOG_PRETTY,
          checks: [DatabaseHealth, RedisHealth, S3Health],
        }),
        DatabaseModule,
        StorageModule,
        LifecycleModule,
        QueueModule.forRoot({ serve: servedMediaQueues(config) }),
      ],
      // Handlers of queues this deployment does not serve are left out (the registry check insists).
      providers: [
        MediaRouter,
        VariantStore,
        ...(config.MEDIA_QUEUES.includes('verify') ? [VerifyService, ReprocessService] : []),
        ...(config.MEDIA_QUEUES.includes('scan') ? [ScanService] : []),
        ...(config.MEDIA_QUEUES.includes('image') ? [ImageService] : []),
        ...(config.MEDIA_QUEUES.includes('video') ? [VideoService] : []),
        ...(config.MEDIA_QUEUES.includes('transcode') ? [TranscodeService] : []),
      ],
    };
  }
}
