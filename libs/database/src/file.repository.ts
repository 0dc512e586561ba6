import { Injectable } from '@nestjs/common';
import type { ChangeType, FileStatusName } from '@app/contracts';
import { TRANSITIONS } from '@app/contracts';
import { ChangeEventRepository, Tx } from './change-event.repository';
import type { File, Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';
import { StorageEventRecord, StorageEventRepository } from './storage-event.repository';

export type FileRow = File;

/** What a transition does to the tenant's quota, in the same transaction. */
export type QuotaEffect =
  /** reserved -> used: storage confirmed the bytes. */
  | 'commit'
  /** reserved -> free: the upload will never complete (aborted, expired, rejected). */
  | 'release'
  /** used -> free: a stored file is deleted. */
  | 'free';

export interface Transition {
  to: FileStatusName;
  /** Statuses it may leave; defaults to the state machine's (libs/contracts/file-status.ts). */
  from?: readonly FileStatusName[];
  data?: Prisma.FileUpdateManyMutationInput;
  quota?: QuotaEffect;
  change?: { type: ChangeType; data?: Record<string, unknown> };
}

export interface NewUpload {
  id: string;
  tenantId: string;
  ownerId: string;
  filename: string;
  contentType: string;
  size: bigint;
  declaredSha256: string | null;
  storageKey: string;
  mode: 'single' | 'multipart';
  partSize: bigint | null;
  partCount: number | null;
  checksumAlgorithm: string | null;
  metadata: Prisma.InputJsonValue | undefined;
  expiresAt: Date;
}

/**
 * Files and uploads. Every state change goes through `transition`: one guarded UPDATE
 * (`WHERE status IN (from)`), its quota effect and its change event, all in one transaction, so a
 * duplicate or late event that finds the row moved on changes nothing at all.
 */
@Injectable()
export class FileRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly changes: ChangeEventRepository,
    private readonly events: StorageEventRepository,
  ) {}

  /**
   * The transition a storage event causes, committed together with the event's dedup record: a
   * redelivered event finds its record and changes nothing; a failed commit records nothing, so
   * the redelivery does the work.
   */
  async transitionForEvent(event: StorageEventRecord, id: string, t: Transition): Promise<{ duplicate: boolean; file: FileRow | null }> {
    return this.changes.transaction(async (tx) => {
      if (!(await this.events.recordOnce(event, tx))) return { duplicate: true, file: null };
      return { duplicate: false, file: await this.transitionIn(tx, id, t) };
    });
  }

  /**
   * Reserves quota and records a pending upload with its `upload.created` change. Returns null
   * (and writes nothing) when the reservation would exceed the tenant's quota: the check and the
   * increment are one conditional UPDATE, so concurrent initiations cannot overshoot.
   */
  async createPending(upload: NewUpload): Promise<FileRow | null> {
    return this.changes.transaction(async (tx) => {
      if (!(await this.admit(tx, upload.tenantId, { reserve: upload.size }))) return null;
      const file = await tx.file.create({ data: { ...upload, status: 'pending' } });
      await this.changes.append(tx, {
        tenantId: upload.tenantId,
        ownerId: upload.ownerId,
        type: 'upload.created',
        fileId: file.id,
        data: { filename: file.filename, size: Number(file.size), contentType: file.contentType, mode: file.mode },
      });
      return file;
    });
  }

  /**
   * A verified, ready file with this content in the scope instant uploads may use: one owner,
   * or (tenant opt-in) the whole tenant; never another tenant. Matched on the verified SHA-256
   * and the size.
   */
  async findDedupSource(tenantId: string, ownerId: string | null, sha256: string, size: bigint) {
    return this.prisma.file.findFirst({
      where: { tenantId, ...(ownerId ? { ownerId } : {}), sha256, size, status: 'ready' },
      orderBy: { readyAt: 'desc' },
      include: { variants: true },
    });
  }

  /**
   * A new ready file sharing `source`'s stored object and variants (no bytes move). Its size is
   * charged to the quota like any stored file (null, writing nothing, when that exceeds it).
   */
  async createDeduplicated(
    source: FileRow & {
      variants: Array<{
        name: string;
        storageKey: string;
        contentType: string;
        size: bigint;
        width: number | null;
        height: number | null;
        durationMs: number | null;
      }>;
    },
    copy: { id: string; ownerId: string; filename: string; metadata: Prisma.InputJsonValue | undefined },
  ): Promise<FileRow | null> {
    return this.changes.transaction(async (tx) => {
      if (!(await this.admit(tx, source.tenantId, { use: source.size }))) return null;
      const now = new Date();
      const file = await tx.file.create({
        data: {
          id: copy.id,
          tenantId: source.tenantId,
          ownerId: copy.ownerId,
          filename: copy.filename,
          contentType: source.contentType,
          detectedType: source.detectedType,
          size: source.size,
          declaredSha256: source.sha256,
          sha256: source.sha256,
          storageKey: source.storageKey,
          mode: source.mode,
          status: 'ready',
          statusReason: `deduplicated:${source.id}`,
          metadata: copy.metadata,
          etag: source.etag,
          width: source.width,
          height: source.height,
          durationMs: source.durationMs,
          placeholder: source.placeholder,
          mediaInfo: source.mediaInfo ?? undefined,
          expiresAt: now,
          uploadedAt: now,
          readyAt: now,
          variants: {
            create: source.variants.map(({ name, storageKey, contentType, size, width, height, durationMs }) => ({
              name,
              storageKey,
              contentType,
              size,
              width,
              height,
              durationMs,
            })),
          },
        },
      });
      for (const type of ['upload.created', 'file.ready'] as const) {
        await this.changes.append(tx, {
          tenantId: file.tenantId,
          ownerId: file.ownerId,
          type,
          fileId: file.id,
          data: { filename: file.filename, size: Number(file.size), deduplicated: true },
        });
      }
      return file;
    });
  }

  /**
   * Deletes a file and says which stored objects no live file refers to any more. The rows sharing
   * its object are locked first, so two copies deleted at once cannot both believe the other
   * still holds it (an object shared by instant uploads is removed with its last reference).
   */
  async deleteAndRelease(id: string, t: Transition): Promise<{ file: FileRow; orphanKeys: string[] } | null> {
    return this.changes.transaction(async (tx) => {
      const current = await tx.file.findUnique({ where: { id }, include: { variants: true } });
      if (!current) return null;
      await tx.$queryRaw`SELECT id FROM files WHERE storage_key = ${current.storageKey} ORDER BY id FOR UPDATE`;
      const file = await this.transitionIn(tx, id, t);
      if (!file) return null;
      const live = ['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready', 'failed'] as const;
      const keys = [current.storageKey, ...current.variants.map((v) => v.storageKey)];
      const orphanKeys: string[] = [];
      for (const key of keys) {
        const fileRefs = await tx.file.count({ where: { storageKey: key, status: { in: [...live] } } });
        const variantRefs = await tx.variant.count({ where: { storageKey: key, file: { status: { in: [...live] } } } });
        if (fileRefs + variantRefs === 0) orphanKeys.push(key);
      }
      return { file, orphanKeys };
    });
  }

  /** A file of this owner, or null: other owners' and tenants' files do not exist for the caller. */
  async findOwned(scope: { tenantId: string; ownerId: string }, id: string): Promise<FileRow | null> {
    return this.prisma.file.findFirst({ where: { id, tenantId: scope.tenantId, ownerId: scope.ownerId } });
  }

  async find(id: string): Promise<FileRow | null> {
    return this.prisma.file.findUnique({ where: { id } });
  }

  /** Facts verification established, kept while the file stays in `processing`. */
  async setVerified(id: string, facts: { sha256: string; detectedType: string }): Promise<void> {
    await this.prisma.file.update({ where: { id }, data: facts });
  }

  async setUploadId(id: string, s3UploadId: string): Promise<void> {
    await this.prisma.file.update({ where: { id }, data: { s3UploadId } });
  }

  /** Applies a transition; null when the row was not in a `from` status (nothing changed). */
  async transition(id: string, t: Transition, tx?: Tx): Promise<FileRow | null> {
    if (tx) return this.transitionIn(tx, id, t);
    return this.changes.transaction((inner) => this.transitionIn(inner, id, t));
  }

  private async transitionIn(tx: Tx, id: string, t: Transition): Promise<FileRow | null> {
    const from = t.from ?? TRANSITIONS[t.to];
    const now = new Date();
    const { count } = await tx.file.updateMany({
      where: { id, status: { in: [...from] } },
      data: { ...t.data, status: t.to, statusChangedAt: now },
    });
    if (count !== 1) return null;
    const file = await tx.file.findUniqueOrThrow({ where: { id } });
    if (t.quota) await this.applyQuota(tx, file.tenantId, file.size, t.quota);
    if (t.change) {
      await this.changes.append(tx, {
        tenantId: file.tenantId,
        ownerId: file.ownerId,
        type: t.change.type,
        fileId: file.id,
        data: { status: file.status, ...t.change.data },
      });
    }
    return file;
  }

  /**
   * Adds bytes to the tenant's reserved or used total only if the sum stays within its quota: the
   * check and the increment are one conditional UPDATE, so concurrent callers cannot overshoot.
   */
  private async admit(tx: Tx, tenantId: string, bytes: { reserve?: bigint; use?: bigint }): Promise<boolean> {
    const reserve = bytes.reserve ?? 0n;
    const use = bytes.use ?? 0n;
    const updated = await tx.$executeRaw`
      UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${reserve}, used_bytes = q.used_bytes + ${use}, updated_at = now()
      FROM tenants t
      WHERE q.tenant_id = ${tenantId}::uuid AND t.id = q.tenant_id
        AND q.used_bytes + q.reserved_bytes + ${reserve + use} <= t.quota_bytes`;
    return updated === 1;
  }

  private async applyQuota(tx: Tx, tenantId: string, size: bigint, effect: QuotaEffect): Promise<void> {
    if (size === 0n) return;
    if (effect === 'commit') {
      await tx.$executeRaw`UPDATE quota_usage SET reserved_bytes = reserved_bytes - ${size}, used_bytes = used_bytes + ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
    } else if (effect === 'release') {
      await tx.$executeRaw`UPDATE quota_usage SET reserved_bytes = reserved_bytes - ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
    } else {
      await tx.$executeRaw`UPDATE quota_usage SET used_bytes = used_bytes - ${size}, updated_at = now() WHERE tenant_id = ${tenantId}::uuid`;
    }
  }

  /** The owner's files in the given statuses, newest first, keyset-paginated by (createdAt, id). */
  async listOwned(scope: { tenantId: string; ownerId: string }, statuses: readonly FileStatusName[], limit: number, after?: { createdAt: Date; id: string }) {
    return this.prisma.file.findMany({
      where: {
        tenantId: scope.tenantId,
        ownerId: scope.ownerId,
        status: { in: [...statuses] },
        ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
      include: { variants: { orderBy: { name: 'asc' } } },
    });
  }

  async findOwnedWithVariants(scope: { tenantId: string; ownerId: string }, id: string) {
    return this.prisma.file.findFirst({ where: { id, tenantId: scope.tenantId, ownerId: scope.ownerId }, include: { variants: { orderBy: { name: 'asc' } } } });
  }

  /** Uploads still waiting for bytes whose deadline has passed (oldest first, a batch at a time). */
  async findOverdue(now: Date, limit: number): Promise<FileRow[]> {
    return this.prisma.file.findMany({
      where: { status: { in: ['pending', 'uploading', 'completing'] }, expiresAt: { lt: now } },
      orderBy: { expiresAt: 'asc' },
      take: limit,
    });
  }

  /** Files that entered `status` before `before` and are still there. */
  async findStuck(status: FileStatusName, before: Date, limit: number): Promise<FileRow[]> {
    return this.prisma.file.findMany({ where: { status, statusChangedAt: { lt: before } }, orderBy: { statusChangedAt: 'asc' }, take: limit });
  }

  /**
   * Ready or failed files of these detected types that lack at least one of `variants`, in id
   * order from `afterId` (a sweep pages with the last id it saw).
   */
  async findMissingVariants(q: {
    types: string[];
    variants: string[];
    maxSize?: number;
    tenantId?: string;
    afterId?: string;
    limit: number;
  }): Promise<FileRow[]> {
    return this.prisma.file.findMany({
      where: {
        status: { in: ['ready', 'failed'] },
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
  async storedParts(fileId: string) {
    return this.prisma.filePart.findMany({ where: { fileId }, orderBy: { partNumber: 'asc' } });
  }
}
