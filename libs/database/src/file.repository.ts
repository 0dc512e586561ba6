import { Injectable } from '@nestjs/common';
import type { FileStatusName } from '@app/contracts';
import { FILE_COLUMNS, VARIANT_COLUMNS } from './file-columns.sql';
import { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';
import type { FileRecord, FileWithVariants, VariantRow } from './records';

/**
 * Reading files and uploads, and the facts that change without a status (the multipart upload id,
 * verification's findings). Status changes are FileTransitionRepository's, driven by libs/lifecycle.
 */
@Injectable()
export class FileRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * A verified, ready file with this content in the scope instant uploads may use: one owner,
   * or (tenant opt-in) the whole tenant; never another tenant. Matched on the verified SHA-256
   * and the size.
   */
  async findDedupSource(q: {
    tenantId: string;
    ownerId: string | null;
    sha256: string;
    size: bigint;
    status: FileStatusName;
  }): Promise<FileWithVariants | null> {
    // On the path of every initiation that declares its SHA-256 (the SDK does, up to 64 MiB).
    const [source] = await this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files
      WHERE tenant_id = ${q.tenantId}::uuid ${q.ownerId ? Prisma.sql`AND owner_id = ${q.ownerId}` : Prisma.empty}
        AND sha256 = ${q.sha256} AND size = ${q.size}::bigint AND status::text = ${q.status}
      ORDER BY ready_at DESC NULLS LAST
      LIMIT 1`);
    return source ? (await this.withVariants([source]))[0] : null;
  }

  // The reads on every request's path (signing, status, completion) and every storage event's go
  // straight through pg (PrismaService.direct): Prisma's query engine costs more than the query.

  /** A file of this owner, or null: other owners' and tenants' files do not exist for the caller. */
  async findOwned(scope: { tenantId: string; ownerId: string }, id: string): Promise<FileRecord | null> {
    const [file] = await this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files WHERE id = ${id}::uuid AND tenant_id = ${scope.tenantId}::uuid AND owner_id = ${scope.ownerId}`);
    return file ?? null;
  }

  async find(id: string): Promise<FileRecord | null> {
    const [file] = await this.prisma.direct<FileRecord>(Prisma.sql`SELECT ${FILE_COLUMNS} FROM files WHERE id = ${id}::uuid`);
    return file ?? null;
  }

  /** The files with these ids that exist (one query for a page of ids). */
  async findMany(ids: string[]): Promise<FileRecord[]> {
    if (!ids.length) return [];
    return this.prisma.direct<FileRecord>(Prisma.sql`SELECT ${FILE_COLUMNS} FROM files WHERE id = ANY(${ids}::uuid[])`);
  }

  /** Facts verification established, kept while the file stays in `processing`. */
  async setVerified(id: string, facts: { sha256: string; detectedType: string }): Promise<void> {
    await this.prisma.file.update({ where: { id }, data: facts });
  }

  /** The malware scan's result (issue #15). */
  async setScan(id: string, scan: 'clean' | 'skipped_too_large'): Promise<void> {
    await this.prisma.file.update({ where: { id }, data: { scan } });
  }

  async setUploadId(id: string, s3UploadId: string): Promise<void> {
    await this.prisma.file.update({ where: { id }, data: { s3UploadId } });
  }

  /**
   * The owner's files in the given statuses, newest first, keyset-paginated by (createdAt, id).
   * The position is one row comparison, `(created_at, id) < (...)`, which the index on
   * (tenant_id, owner_id, created_at DESC, id DESC) answers by a range scan in its own order: a
   * page deep in the list costs what the first page costs (no OR, no sort). The ORDER BY names the
   * table's columns (`files.id`): a bare `id` would be the selected `id::text`, which the index
   * does not hold, and every page paid an Incremental Sort on it.
   *
   * Filters (issue #13) keep that plan: the time bounds narrow the same range scan (they are index
   * conditions on created_at), the others are checked on the rows the scan reads. No index serves
   * them on purpose: each would have to keep the (created_at, id) order per owner to page without
   * a sort, and an owner's rows are already one contiguous range of this one. A very selective
   * filter reads at most the owner's range (bounded by the time window when one is given).
   */
  async listOwned(
    scope: { tenantId: string; ownerId: string },
    statuses: readonly FileStatusName[],
    limit: number,
    after?: { createdAt: Date; id: string },
    filters: FileListFilters = {},
  ): Promise<FileWithVariants[]> {
    const position = after ? Prisma.sql`AND (created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : Prisma.empty;
    const files = await this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files
      WHERE tenant_id = ${scope.tenantId}::uuid AND owner_id = ${scope.ownerId}::text
        AND status::text = ANY(${[...statuses]}::text[]) ${position}${filterSql(filters)}
      ORDER BY files.created_at DESC, files.id DESC
      LIMIT ${limit}`);
    return this.withVariants(files);
  }

  /**
   * A batch of the tenant's files in `statuses` (any owner, in id order): what the deletion of a
   * tenant still has to move out of them. Read through the (tenant_id, ...) index.
   */
  async findOfTenant(tenantId: string, statuses: readonly FileStatusName[], limit: number): Promise<FileRecord[]> {
    return this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files WHERE tenant_id = ${tenantId}::uuid AND status = ANY(${[...statuses]}::file_status[]) ORDER BY files.id LIMIT ${limit}`);
  }

  async findOwnedWithVariants(scope: { tenantId: string; ownerId: string }, id: string): Promise<FileWithVariants | null> {
    const file = await this.findOwned(scope, id);
    return file ? (await this.withVariants([file]))[0] : null;
  }

  /** The files with their variants (by name), in one more read. */
  private async withVariants(files: FileRecord[]): Promise<FileWithVariants[]> {
    if (!files.length) return [];
    const variants = await this.prisma.direct<VariantRow & { fileId: string }>(Prisma.sql`
      SELECT ${VARIANT_COLUMNS} FROM variants WHERE file_id = ANY(${files.map((f) => f.id)}::uuid[]) ORDER BY name`);
    const byFile = new Map<string, VariantRow[]>();
    for (const { fileId, ...variant } of variants) {
      const list = byFile.get(fileId);
      if (list) list.push(variant);
      else byFile.set(fileId, [variant]);
    }
    return files.map((file) => ({ ...file, variants: byFile.get(file.id) ?? [] }));
  }

  /** Files in these statuses whose deadline has passed (oldest first, a batch at a time). */
  async findOverdue(statuses: readonly FileStatusName[], now: Date, limit: number): Promise<FileRecord[]> {
    return this.prisma.file.findMany({
      where: { status: { in: [...statuses] }, expiresAt: { lt: now } },
      orderBy: { expiresAt: 'asc' },
      take: limit,
    });
  }

  /** Files that entered `status` before `before` and are still there. */
  /**
   * Files in `statuses` storage was not asked about since `checkedBefore` (never asked first),
   * settled in their status since `settledBefore`: the reconciler audit's next visits. `statuses`
   * must lie within the partial index files_storage_audit_idx (its migration), which keeps this
   * read proportional to what is audited, not to every file ever deleted.
   */
  async dueForStorageAudit(statuses: readonly FileStatusName[], checkedBefore: Date, settledBefore: Date, limit: number): Promise<FileRecord[]> {
    return this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files
      WHERE status = ANY(${[...statuses]}::file_status[]) AND (storage_checked_at IS NULL OR storage_checked_at < ${checkedBefore}::timestamptz)
        AND status_changed_at < ${settledBefore}::timestamptz
      ORDER BY storage_checked_at NULLS FIRST, id
      LIMIT ${limit}`);
  }

  /** The other files in `statuses` sharing `storageKey`'s object (instant-upload copies and their source). */
  async findSharingObject(storageKey: string, exceptId: string, statuses: readonly FileStatusName[]): Promise<FileRecord[]> {
    return this.prisma.direct<FileRecord>(Prisma.sql`
      SELECT ${FILE_COLUMNS} FROM files
      WHERE storage_key = ${storageKey} AND id <> ${exceptId}::uuid AND status = ANY(${[...statuses]}::file_status[])`);
  }

  /**
   * Bytes and files an owner (or, without `ownerId`, the whole tenant) holds against the quota:
   * `reserved` and `used` name the statuses whose size counts as each (the state machine's rule).
   */
  async usage(
    scope: { tenantId: string; ownerId?: string },
    statuses: { reserved: readonly FileStatusName[]; used: readonly FileStatusName[] },
  ): Promise<{ usedBytes: bigint; reservedBytes: bigint; files: bigint }> {
    const owner = scope.ownerId === undefined ? Prisma.empty : Prisma.sql`AND owner_id = ${scope.ownerId}`;
    const held = [...statuses.reserved, ...statuses.used];
    const [row] = await this.prisma.direct<{ usedBytes: bigint; reservedBytes: bigint; files: bigint }>(Prisma.sql`
      SELECT coalesce(sum(size) FILTER (WHERE status = ANY(${[...statuses.used]}::file_status[])), 0)::bigint AS "usedBytes",
             coalesce(sum(size) FILTER (WHERE status = ANY(${[...statuses.reserved]}::file_status[])), 0)::bigint AS "reservedBytes",
             count(*)::bigint AS files
      FROM files WHERE tenant_id = ${scope.tenantId}::uuid ${owner} AND status = ANY(${held}::file_status[])`);
    return row;
  }

  /** Storage was asked about these files now. */
  async markStorageChecked(ids: string[]): Promise<void> {
    if (ids.length) await this.prisma.direct(Prisma.sql`UPDATE files SET storage_checked_at = now() WHERE id = ANY(${ids}::uuid[])`);
  }

  /** How many files are in `status`, and since when the one there longest (null: none); for metrics. */
  async statusSummary(status: FileStatusName): Promise<{ count: number; oldestSince: Date | null }> {
    const [row] = await this.prisma.direct<{ count: bigint; oldest: Date | null }>(
      Prisma.sql`SELECT count(*) AS count, min(status_changed_at) AS oldest FROM files WHERE status = ${status}::file_status`,
    );
    return { count: Number(row?.count ?? 0n), oldestSince: row?.oldest ?? null };
  }

  async findStuck(status: FileStatusName, before: Date, limit: number): Promise<FileRecord[]> {
    return this.prisma.file.findMany({ where: { status, statusChangedAt: { lt: before } }, orderBy: { statusChangedAt: 'asc' }, take: limit });
  }

  /**
   * Files in these statuses and of these detected types that lack at least one of `variants`, in
   * id order from `afterId` (a sweep pages with the last id it saw).
   */
  async findMissingVariants(q: {
    statuses: readonly FileStatusName[];
    types: string[];
    variants: string[];
    maxSize?: number;
    tenantId?: string;
    afterId?: string;
    limit: number;
  }): Promise<FileRecord[]> {
    return this.prisma.file.findMany({
      where: {
        status: { in: [...q.statuses] },
        detectedType: { in: q.types },
        ...(q.maxSize !== undefined ? { size: { lte: BigInt(q.maxSize) } } : {}),
        ...(q.tenantId ? { tenantId: q.tenantId } : {}),
        ...(q.afterId ? { id: { gt: q.afterId } } : {}),
        OR: q.variants.map((name) => ({ variants: { none: { name } } })),
      },
      orderBy: { id: 'asc' },
      take: q.limit,
    });
  }

  /** Parts the ledger knows as stored (for resume views after storage forgot them). */
  async storedParts(fileId: string): Promise<Array<{ partNumber: number; size: bigint; etag: string | null }>> {
    return this.prisma.direct(Prisma.sql`
      SELECT part_number AS "partNumber", size, etag FROM file_parts WHERE file_id = ${fileId}::uuid ORDER BY part_number`);
  }
}

/** What a file list may be narrowed to (all given ones apply). */
export interface FileListFilters {
  /** The exact declared content type (lower case, as stored). */
  contentType?: string;
  /** A declared content type prefix such as `image/` (lower case). */
  contentTypePrefix?: string;
  /** A filename prefix, compared case-insensitively. */
  filenamePrefix?: string;
  /** created_at >= this. */
  createdFrom?: Date;
  /** created_at < this. */
  createdUntil?: Date;
}

function filterSql(f: FileListFilters): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (f.contentType !== undefined) parts.push(Prisma.sql`AND content_type = ${f.contentType}::text`);
  if (f.contentTypePrefix !== undefined) parts.push(Prisma.sql`AND starts_with(content_type, ${f.contentTypePrefix}::text)`);
  if (f.filenamePrefix !== undefined) parts.push(Prisma.sql`AND starts_with(lower(filename), lower(${f.filenamePrefix}::text))`);
  if (f.createdFrom) parts.push(Prisma.sql`AND created_at >= ${f.createdFrom}::timestamptz`);
  if (f.createdUntil) parts.push(Prisma.sql`AND created_at < ${f.createdUntil}::timestamptz`);
  return parts.length ? Prisma.sql` ${Prisma.join(parts, ' ')}` : Prisma.empty;
}
