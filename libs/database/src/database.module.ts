import { Global, Module } from '@nestjs/common';
import { ChangeEventRepository } from './change-event.repository';
import { ChangeOutbox } from './change-outbox';
import { DatabaseHealth } from './database.health';
import { PoolMetrics } from './pool-metrics';
import { PrismaService } from './prisma.service';
import { StorageEventRepository } from './storage-event.repository';
import { TenantRepository } from './tenant.repository';
import { ApiKeyRepository } from './api-key.repository';
import { FileRepository } from './file.repository';
import { FileTransitionRepository } from './file-transition.repository';
import { FilePartRepository } from './file-part.repository';
import { VariantRepository } from './variant.repository';
import { WebhookRepository } from './webhook.repository';

/** The client, its readiness check, one repository per aggregate and the change outbox, all exported. */
const REPOSITORIES = [
  PrismaService,
  DatabaseHealth,
  StorageEventRepository,
  ChangeEventRepository,
  ChangeOutbox,
  TenantRepository,
  ApiKeyRepository,
  FileRepository,
  FileTransitionRepository,
  FilePartRepository,
  VariantRepository,
  WebhookRepository,
];

@Global()
@Module({
  providers: [...REPOSITORIES, PoolMetrics],
  exports: REPOSITORIES,
})
export class DatabaseModule {}
