import { Global, Module } from '@nestjs/common';
import { ChangeEventRepository } from './change-event.repository';
import { DatabaseHealth } from './database.health';
import { PrismaService } from './prisma.service';
import { StorageEventRepository } from './storage-event.repository';
import { TenantRepository } from './tenant.repository';
import { FileRepository } from './file.repository';
import { FilePartRepository } from './file-part.repository';
import { VariantRepository } from './variant.repository';
import { WebhookRepository } from './webhook.repository';

/** The client, its readiness check and one repository per aggregate, all exported. */
const REPOSITORIES = [
  PrismaService,
  DatabaseHealth,
  StorageEventRepository,
  ChangeEventRepository,
  TenantRepository,
  FileRepository,
  FilePartRepository,
  VariantRepository,
  WebhookRepository,
];

@Global()
@Module({
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class DatabaseModule {}
