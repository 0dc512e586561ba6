import { Injectable } from '@nestjs/common';
import type { Tx } from './change-event.repository';
import { ChangeOutbox } from './change-outbox';
import { PrismaService } from './prisma.service';

export interface VariantRecord {
  name: string;
  storageKey: string;
  contentType: string;
  size: number;
  width?: number;
  height?: number;
  durationMs?: number;
}

@Injectable()
export class VariantRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: ChangeOutbox,
  ) {}

  /** The stored key of a file's variant, or null when it has none of that name. */
  async keyOf(fileId: string, name: string): Promise<string | null> {
    const row = await this.prisma.variant.findUnique({ where: { fileId_name: { fileId, name } }, select: { storageKey: true } });
    return row?.storageKey ?? null;
  }

  /**
   * Whether any file not deleted still shows the object (instant-upload copies share their
   * source's variants): a replaced variant's object is removed only when nothing does.
   */
  async isReferenced(storageKey: string): Promise<boolean> {
    return (await this.prisma.variant.count({ where: { storageKey, file: { status: { not: 'deleted' } } } })) > 0;
  }

  /** One row per (file, name): a re-run replaces the variant, it never adds a second one. */
  async upsert(fileId: string, v: VariantRecord, tx: Tx = this.prisma): Promise<void> {
    const data = {
      storageKey: v.storageKey,
      contentType: v.contentType,
      size: BigInt(v.size),
      width: v.width ?? null,
      height: v.height ?? null,
      durationMs: v.durationMs ?? null,
    };
    await tx.variant.upsert({ where: { fileId_name: { fileId, name: v.name } }, create: { fileId, name: v.name, ...data }, update: data });
  }

  /**
   * A variant made after the file was ready (a rendition), with its `file.variant_added` change in
   * the same transaction; only while the file is still `ready` (a deleted or reprocessing file
   * gets nothing). Instant-upload copies sharing the file's object get it too (the same stored
   * variant, each with its own change), so a copy made before the rendition existed is not left
   * without it. Returns whether it was recorded.
   */
  async addToReadyFile(fileId: string, v: VariantRecord): Promise<boolean> {
    return this.outbox.transaction(async (tx) => {
      // Every file sharing the object, locked FOR SHARE in id order (as deletes lock them FOR UPDATE,
      // so the two never deadlock): a concurrent delete or reprocess waits, or won before this.
      const sharing = await tx.$queryRaw<Array<{ id: string; tenant_id: string; owner_id: string; status: string; has: boolean }>>`
        SELECT f.id::text, f.tenant_id::text, f.owner_id, f.status::text,
               EXISTS (SELECT 1 FROM variants x WHERE x.file_id = f.id AND x.name = ${v.name}) AS has
        FROM files f
        WHERE f.storage_key = (SELECT storage_key FROM files WHERE id = ${fileId}::uuid)
        ORDER BY f.id FOR SHARE OF f`;
      const source = sharing.find((f) => f.id === fileId);
      if (source?.status !== 'ready') return false;
      const copies = sharing.filter((f) => f.id !== fileId && f.status === 'ready' && !f.has);
      const { storageKey: _key, ...variant } = v;
      for (const file of [source, ...copies]) {
        await this.upsert(file.id, v, tx);
        await this.outbox.append(tx, { tenantId: file.tenant_id, ownerId: file.owner_id, type: 'file.variant_added', fileId: file.id, data: { variant } });
      }
      return true;
    });
  }
}
