import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import type { NotifierConfig } from './config';
import { RetentionService } from './retention.service';

@Module({})
export class SyncNotifierModule {
  static register(config: NotifierConfig): DynamicModule {
    return {
      module: SyncNotifierModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: 'sync-notifier', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, checks: [DatabaseHealth, RedisHealth] }),
        DatabaseModule,
        QueueModule.forRoot({ serve: ['sync'] }),
      ],
      providers: [RetentionService],
    };
  }
}
