import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ZodSerializerInterceptor, ZodValidationPipe } from 'nestjs-zod';
import { ConfigModule } from '@app/config';
import { DatabaseHealth, DatabaseModule } from '@app/database';
import { DeliveryModule } from '@app/delivery';
import { LifecycleModule } from '@app/lifecycle';
import { ObservabilityModule } from '@app/observability';
import { QueueModule, RedisHealth } from '@app/queue';
import { S3Health, StorageModule } from '@app/storage';
import { OperationsController } from './admin/operations.controller';
import { OperationsService } from './admin/operations.service';
import { TenantsController } from './admin/tenants.controller';
import { TenantsService } from './admin/tenants.service';
import { TenantDeletionService } from './admin/tenant-deletion.service';
import { KeysController } from './admin/keys.controller';
import { ApiKeysService } from './admin/api-keys.service';
import { AuthGuard } from '@app/auth';
import { CredentialsService } from '@app/auth';
import { RateLimitGuard } from '@app/auth';
import type { UploadApiConfig } from './config';
import { TokensController } from './tokens/tokens.controller';
import { FilesController } from './files/files.controller';
import { UsageController } from './usage/usage.controller';
import { FilesService } from './files/files.service';
import { UploadsController } from './uploads/uploads.controller';
import { UploadsService } from './uploads/uploads.service';
import { CompanionController } from './companion/companion.controller';
import { CompanionService } from './companion/companion.service';
import { CompanionSessionController } from './companion/session.controller';

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
        DeliveryModule,
        LifecycleModule,
        // A producer only: its jobs run in chunk-tracker and media-processor.
        QueueModule.forRoot({ serve: [] }),
      ],
      controllers: [
        TenantsController,
        KeysController,
        OperationsController,
        TokensController,
        UploadsController,
        FilesController,
        UsageController,
        CompanionController,
        CompanionSessionController,
      ],
      providers: [
        CredentialsService,
        TenantsService,
        TenantDeletionService,
        ApiKeysService,
        OperationsService,
        UploadsService,
        CompanionService,
        FilesService,
        // Request bodies are validated by the zod schemas that also generate the OpenAPI document.
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
        // Guards run in this order: who is calling, then whether they may call again now.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
