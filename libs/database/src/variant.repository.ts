import { Prisma } from './generated/prisma/client';
import { Injectable } from '@nestjs/common';
import { ChangeEventRepository } from './change-event.repository';
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
    private readonly changes: ChangeEventRepository,
  ) {}

  /** One row per (file, name): a re-run replaces the variant, it never adds a second one. */
  async upsert(fileId: string, v: VariantRecord, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
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
   * gets nothing). Returns whether it was recorded.
   */
  async addToReadyFile(fileId: string, v: VariantRecord): Promise<boolean> {
    return this.changes.transaction(async (tx) => {
      // FOR SHARE: a concurrent delete or reprocess waits for this transaction, or wins before it.
      const [file] = await tx.$queryRaw<Array<{ tenant_id: string; owner_id: string }>>`
        SELECT tenant_id::text, owner_id FROM files WHERE id = ${fileId}::uuid AND status = 'ready' FOR SHARE`;
      if (!file) return false;
      await this.upsert(fileId, v, tx);
      const { storageKey: _key, ...variant } = v;
      await this.changes.append(tx, { tenantId: file.tenant_id, ownerId: file.owner_id, type: 'file.variant_added', fileId, data: { variant } });
      return true;
    });
  }
}
