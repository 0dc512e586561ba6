export * from './prisma.service';
export * from './database.health';
export * from './database.module';
export * from './storage-event.repository';
export * from './change-event.repository';
export * from './tenant.repository';
export { Prisma } from './generated/prisma/client';
export type * from './generated/prisma/client';
