import { Injectable } from '@nestjs/common';
import type { ChangeType } from '@app/contracts';
import { Prisma } from './generated/prisma/client';
import { PrismaService } from './prisma.service';

export interface NewChange {
  tenantId: string;
  ownerId: string;
  type: ChangeType;
  fileId: string | null;
  data: Record<string, unknown>;
}

export interface AppendedChange {
  id: bigint;
  seq: bigint;
  createdAt: Date;
}

/** A transaction client, so a change is written in the same transaction as the state it describes. */
export type Tx = Prisma.TransactionClient;

@Injectable()
export class ChangeEventRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Appends a change to the owner's feed inside the caller's transaction. The owner's sequence
   * row is incremented with UPDATE ... RETURNING, which holds its row lock until commit: a second
   * writer for the same owner waits, so sequence numbers are handed out in commit order and a
   * reader that has seen N can never later find an N-1 it skipped (no gaps, no reordering).
   */
  async append(tx: Tx, change: NewChange): Promise<AppendedChange> {
    const [row] = await tx.$queryRaw<Array<{ last_seq: bigint }>>`
      INSERT INTO owner_sequences (tenant_id, owner_id, last_seq)
      VALUES (${change.tenantId}::uuid, ${change.ownerId}, 1)
      ON CONFLICT (tenant_id, owner_id) DO UPDATE SET last_seq = owner_sequences.last_seq + 1
      RETURNING last_seq`;
    if (!row) throw new Error('owner sequence upsert returned no row');
    const created = await tx.changeEvent.create({
      data: {
        tenantId: change.tenantId,
        ownerId: change.ownerId,
        seq: row.last_seq,
        type: change.type,
        fileId: change.fileId,
        payload: change.data as Prisma.InputJsonValue,
      },
      select: { id: true, seq: true, createdAt: true },
    });
    return created;
  }

  /** The owner's changes after a sequence number, oldest first. */
  async listAfter(tenantId: string, ownerId: string, afterSeq: bigint, limit: number) {
    return this.prisma.changeEvent.findMany({
      where: { tenantId, ownerId, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
      take: limit,
    });
  }

  async pruneOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.changeEvent.deleteMany({ where: { createdAt: { lt: cutoff } } });
    return count;
  }
}
