import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { ChangeMessage, ChangeType } from '@app/contracts';
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

/** A committed change as it travels to the feed's live listeners and to webhook deliveries. */
export interface CommittedChange {
  tenantId: string;
  ownerId: string;
  change: ChangeMessage;
  /** Webhook deliveries written with it (the transactional outbox): ids to enqueue. */
  deliveryIds: string[];
}

/**
 * Told about changes after their transaction commits (sync-notifier's fan-out, webhook jobs).
 * Best effort by design: a lost notification only delays a change, since the feed is read from
 * the database and pending webhook deliveries are swept up.
 */
export interface ChangePublisher {
  publish(changes: CommittedChange[]): Promise<void>;
}

export const CHANGE_PUBLISHER = Symbol('CHANGE_PUBLISHER');

/** A transaction client, so a change is written in the same transaction as the state it describes. */
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

@Injectable()
export class ChangeEventRepository {
  private readonly logger = new Logger(ChangeEventRepository.name);
  /** Changes appended inside each open transaction, published once it commits. */
  private readonly pending = new WeakMap<Tx, CommittedChange[]>();

  constructor(
    private readonly prisma: PrismaService,
    @Optional() @Inject(CHANGE_PUBLISHER) private readonly publisher?: ChangePublisher,
  ) {}

  /**
   * A transaction whose appended changes are published after it commits (never before: a
   * listener must find them in the database). Every write that appends changes runs in one.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let appended: CommittedChange[] = [];
    const result = await this.prisma.$transaction(async (tx) => {
      appended = [];
      this.pending.set(tx, appended);
      return fn(tx);
    });
    if (appended.length && this.publisher) {
      // After the commit, and never failing the caller: the database already holds the truth.
      await this.publisher.publish(appended).catch((error: unknown) => this.logger.warn({ err: error }, 'publishing committed changes failed'));
    }
    return result;
  }

  /**
   * Appends a change to the owner's feed inside the caller's transaction. The owner's sequence
   * row is incremented with UPDATE ... RETURNING, which holds its row lock until commit: a second
   * writer for the same owner waits, so sequence numbers are handed out in commit order and a
   * reader that has seen N can never later find an N-1 it skipped (no gaps, no reordering).
   * Webhook deliveries for the tenant's matching endpoints are written in the same transaction.
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
    const message = changeMessage({ ...created, type: change.type, fileId: change.fileId, payload: change.data });
    const body = { type: change.type, timestamp: message.at, data: { ...change.data, fileId: change.fileId, ownerId: change.ownerId, cursor: message.cursor } };
    const deliveries = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO webhook_deliveries (id, webhook_id, change_event_id, event_type, payload)
      SELECT gen_random_uuid(), w.id, ${created.id}, ${change.type}, ${JSON.stringify(body)}::jsonb
      FROM webhooks w
      WHERE w.tenant_id = ${change.tenantId}::uuid AND w.disabled_at IS NULL AND (${change.type} = ANY(w.events) OR '*' = ANY(w.events))
      RETURNING id::text`;
    this.pending.get(tx)?.push({ tenantId: change.tenantId, ownerId: change.ownerId, change: message, deliveryIds: deliveries.map((d) => d.id) });
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
