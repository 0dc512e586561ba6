import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ZodSerializerInterceptor, ZodValidationPipe } from 'nestjs-zod';
import { AuthGuard, CredentialsService, RateLimitGuard } from '@app/auth';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { AsyncApiController } from './asyncapi.controller';
import { ChangeHub } from './change-hub.service';
import { ChangesController } from './changes.controller';
import type { NotifierConfig } from './config';
import { FeedService } from './feed.service';
import { RetentionService } from './retention.service';
import { OwnerSlots } from './owner-slots';
import { SyncGateway } from './sync.gateway';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/**
 * The change feed: GET /v1/changes (pages and long-polls), /v1/sync (WebSocket push), the Redis
 * fan-out between replicas, and webhooks for internal teams with their delivery queue.
 */
@Module({})
export class SyncNotifierModule {
  static register(config: NotifierConfig): DynamicModule {
    return {
      module: SyncNotifierModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: 'sync-notifier', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, checks: [DatabaseHealth, RedisHealth] }),
        DatabaseModule,
        QueueModule.forRoot({
          serve: ['sync', 'webhooks'],
          // Retry N of a delivery waits WEBHOOK_RETRY_BASE_MS * 2^(N-1).
          backoff: { webhooks: (attemptsMade) => config.WEBHOOK_RETRY_BASE_MS * 2 ** Math.max(0, attemptsMade - 1) },
        }),
      ],
      controllers: [ChangesController, WebhooksController, AsyncApiController],
      providers: [
        CredentialsService,
        ChangeHub,
        FeedService,
        OwnerSlots,
        SyncGateway,
        WebhooksService,
        RetentionService,
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
        // One per-credential budget with upload-api (the same Redis keys): it is one public API.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
