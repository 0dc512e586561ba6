import { Prisma } from './generated/prisma/client';

/**
 * Every column of `files`, named as FileRecord names them, for raw statements that return files
 * (as text too, for tools that run the same statements, like the control-plane benchmark).
 */
export const FILE_COLUMNS_SQL = `
  id::text AS "id", tenant_id::text AS "tenantId", owner_id AS "ownerId", filename, content_type AS "contentType",
  detected_type AS "detectedType", size, size_declared AS "sizeDeclared", declared_sha256 AS "declaredSha256", sha256, storage_key AS "storageKey",
  mode::text AS "mode", s3_upload_id AS "s3UploadId", part_size AS "partSize", part_count AS "partCount",
  checksum_algorithm AS "checksumAlgorithm", status::text AS "status", status_reason AS "statusReason", metadata,
  width, height, duration_ms AS "durationMs", placeholder, media_info AS "mediaInfo", scan::text AS "scan", etag, request_id AS "requestId", expires_at AS "expiresAt",
  created_at AS "createdAt", updated_at AS "updatedAt", status_changed_at AS "statusChangedAt",
  uploaded_at AS "uploadedAt", ready_at AS "readyAt", deleted_at AS "deletedAt"`;

export const FILE_COLUMNS = Prisma.raw(FILE_COLUMNS_SQL);

/** Every column of `variants`, named as VariantRecord names them. */
export const VARIANT_COLUMNS = Prisma.raw(`
  id::text AS "id", file_id::text AS "fileId", name, storage_key AS "storageKey", content_type AS "contentType", size,
  width, height, duration_ms AS "durationMs", created_at AS "createdAt"`);
