import { randomUUID } from 'node:crypto';
import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileWithVariants, TenantRecord, VariantRow } from '@app/database';
import type { StorageEvent } from '@app/domain';

/**
 * Test data builders: a complete, valid record with every field set, so a test spells out only the
 * fields its behaviour depends on (`aFile({ status: 'processing' })`).
 */

export const TEST_TENANT_ID = '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';

export function aFile(overrides: Partial<FileRecord> = {}): FileRecord {
  const id = overrides.id ?? randomUUID();
  const tenantId = overrides.tenantId ?? TEST_TENANT_ID;
  const status: FileStatusName = overrides.status ?? 'pending';
  const at = new Date('2026-11-29T10:00:00.000Z');
  return {
    id,
    tenantId,
    ownerId: 'alice',
    filename: 'photo.jpg',
    contentType: 'image/jpeg',
    detectedType: null,
    size: 1024n,
    sizeDeclared: true,
    declaredSha256: null,
    sha256: null,
    storageKey: `uploads/${tenantId}/${id}`,
    mode: 'single',
    s3UploadId: null,
    partSize: null,
    partCount: null,
    checksumAlgorithm: null,
    status,
    statusReason: null,
    metadata: null,
    width: null,
    height: null,
    durationMs: null,
    placeholder: null,
    mediaInfo: null,
    scan: null,
    etag: null,
    requestId: null,
    expiresAt: new Date(at.getTime() + 86_400_000),
    createdAt: at,
    updatedAt: at,
    statusChangedAt: at,
    uploadedAt: null,
    readyAt: null,
    deletedAt: null,
    ...overrides,
  };
}

/** A multipart upload of `partCount` parts of `partSize` (the last one smaller when size says so). */
export function aMultipartUpload(overrides: Partial<FileRecord> & { partSize?: bigint; partCount?: number } = {}): FileRecord {
  const partSize = overrides.partSize ?? 5n * 1024n ** 2n;
  const partCount = overrides.partCount ?? 3;
  return aFile({ mode: 'multipart', s3UploadId: 's3-upload-1', size: partSize * BigInt(partCount), partSize, partCount, ...overrides });
}

export function aVariant(overrides: Partial<VariantRow> = {}): VariantRow {
  return { name: 'thumb', storageKey: 'variants/t/f/thumb', contentType: 'image/webp', size: 100n, width: 256, height: 192, durationMs: null, ...overrides };
}

export function aFileWithVariants(overrides: Partial<FileWithVariants> = {}): FileWithVariants {
  const { variants, ...file } = overrides;
  return { ...aFile(file), variants: variants ?? [] };
}

export function aTenant(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return {
    id: TEST_TENANT_ID,
    name: 'photos',
    quotaBytes: 10n * 1024n ** 3n,
    maxFileBytes: 5n * 1024n ** 3n,
    allowedTypes: [],
    dedupScope: 'owner',
    scanUploads: true,
    scanTooLarge: 'skip',
    allowSvgRendering: false,
    ...overrides,
  };
}

/** An S3 event record for `file`'s object, as chunk-tracker receives it after decoding. */
export function anS3Event(file: Pick<FileRecord, 'storageKey' | 'size'>, overrides: Partial<StorageEvent> = {}): StorageEvent {
  return {
    eventName: 'ObjectCreated:Put',
    bucket: 'uploads',
    key: file.storageKey,
    size: Number(file.size),
    etag: 'etag-1',
    sequencer: null,
    eventTime: null,
    ...overrides,
  };
}
