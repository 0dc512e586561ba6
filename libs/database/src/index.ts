// Postgres behind repositories that return the project's own types (records.ts). Prisma's
// generated client and types stay inside this library (eslint's no-restricted-imports).
export * from './prisma.service';
export * from './database.health';
export * from './database.module';
export * from './records';
export * from './storage-event.repository';
export { ChangeEventRepository, changeMessage, cursorOf } from './change-event.repository';
export type { NewChange } from './change-event.repository';
export * from './change-outbox';
export * from './tenant.repository';
export * from './api-key.repository';
export * from './file.repository';
export * from './file-transition.repository';
export type { QuotaEffect } from './quota.sql';
export { FILE_COLUMNS_SQL } from './file-columns.sql';
export * from './file-part.repository';
export * from './variant.repository';
export * from './webhook.repository';
