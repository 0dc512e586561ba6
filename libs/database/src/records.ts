import type { FileStatusName } from '@app/contracts';

/**
 * The project's own shapes of what the database holds. Prisma's generated types stay inside this
 * library (eslint: no Prisma import elsewhere); every repository returns these.
 */

/** JSON as stored in a jsonb column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface FileRecord {
  id: string;
  tenantId: string;
  ownerId: string;
  filename: string;
  contentType: string;
  detectedType: string | null;
  size: bigint;
  /** False while the size is unknown (an upload through /companion before storage shows its bytes). */
  sizeDeclared: boolean;
  declaredSha256: string | null;
  sha256: string | null;
  storageKey: string;
  mode: 'single' | 'multipart';
  s3UploadId: string | null;
  partSize: bigint | null;
  partCount: number | null;
  checksumAlgorithm: string | null;
  status: FileStatusName;
  statusReason: string | null;
  metadata: unknown;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  placeholder: string | null;
  mediaInfo: unknown;
  /** The malware scan's result; null when not scanned (the tenant scans nothing, or not yet). */
  scan: 'clean' | 'skipped_too_large' | null;
  etag: string | null;
  /** The request that initiated the upload (null for files made before it was recorded). */
  requestId: string | null;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
  statusChangedAt: Date;
  uploadedAt: Date | null;
  readyAt: Date | null;
  deletedAt: Date | null;
}

export interface VariantRow {
  name: string;
  storageKey: string;
  contentType: string;
  size: bigint;
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

export type FileWithVariants = FileRecord & { variants: VariantRow[] };

/** Facts a step records on the file with its status (only these columns may change with one). */
export interface FilePatch {
  statusReason?: string | null;
  etag?: string | null;
  sha256?: string | null;
  detectedType?: string | null;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
  placeholder?: string | null;
  mediaInfo?: JsonObject;
  uploadedAt?: Date;
  readyAt?: Date;
  deletedAt?: Date;
}

export interface NewUpload {
  id: string;
  tenantId: string;
  ownerId: string;
  filename: string;
  contentType: string;
  size: bigint;
  /** False for an upload of unknown size (size 0, no quota held until declareSize). */
  sizeDeclared?: boolean;
  declaredSha256: string | null;
  storageKey: string;
  mode: 'single' | 'multipart';
  partSize: bigint | null;
  partCount: number | null;
  checksumAlgorithm: string | null;
  metadata: JsonObject | undefined;
  /** The initiating request's id (logs of the work the file causes carry it). */
  requestId?: string | null;
  expiresAt: Date;
}
