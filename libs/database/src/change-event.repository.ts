import { Injectable } from '@nestjs/common';
import type { ChangeMessage, ChangeType } from '@app/contracts';
import type { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';

export interface NewChange {
  tenantId: string;
  ownerId: string;
  type: ChangeType;
  fileId: string | null;
  data: Record<string, unknown>;
}

/**
 * A transaction client, so a change is written in the same transaction as the state it describes.
 * Internal to this library: callers get one from `ChangeOutbox.transaction`, never build one.
 */
export type Tx = Prisma.TransactionClient;

/** The cursor clients follow: opaque to them, the owner's sequence number here. */
export const cursorOf = (seq: bigint): string => seq.toString();

export function changeMessage(row: { seq: bigint; type: string; fileId: string | null; createdAt: Date; payload: unknown }): ChangeMessage {
  return {
    cursor: cursorOf(row.seq),
    type: row.type as ChangeType,
    fileId: row.fileId,
    at: row.createdAt.toISOString(),
    data: (row.payload ?? {}) as Record<string, unknown>,
  };
}

/** Reading the per-owner change feed. Changes are written by `ChangeOutbox` (change-append.sql.ts). */
@Injectable()
export class ChangeEventRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The owner's changes after a sequence number, oldest first. */
  async listAfter(tenantId: string, ownerId: string, afterSeq: bigint, limit: number): Promise<ChangeMessage[]> {
    const rows = await this.prisma.changeEvent.findMany({
      where: { tenantId, ownerId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
    return rows.map(changeMessage);
  }

  /**
   * Where the owner's feed stands: the last sequence number handed out and the oldest still
   * retained (null when none is), so a cursor older than retention can be told apart.
   */
  async bounds(tenantId: string, ownerId: string): Promise<{ lastSeq: bigint; oldestSeq: bigint | null }> {
    const [row] = await this.prisma.$queryRaw<Array<{ last_seq: bigint | null; oldest_seq: bigint | null }>>`
      SELECT (SELECT last_seq FROM owner_sequences WHERE tenant_id = ${tenantId}::uuid AND owner_id = ${ownerId}) AS last_seq,
             (SELECT min(seq) FROM change_events WHERE tenant_id = ${tenantId}::uuid AND owner_id = ${ownerId}) AS oldest_seq`;
    return { lastSeq: row?.last_seq ?? 0n, oldestSeq: row?.oldest_seq ?? null };
  }

  async pruneOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.changeEvent.deleteMany({ where: { createdAt: { lt: cutoff } } });
    return count;
  }
}
