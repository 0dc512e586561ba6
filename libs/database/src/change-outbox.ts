import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { ChangeMessage } from '@app/contracts';
import { APPENDED, AppendedRow, appendChangeCtes } from './change-append.sql';
import { changeMessage, NewChange, Tx } from './change-event.repository';
import { PrismaService } from './prisma.service';

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

/**
 * The transactional outbox of the change feed. A write that changes what an owner sees runs in
 * `transaction`, and records each change with `append`, which writes, in that transaction and in
 * one statement (change-append.sql.ts):
 * - the change on the owner's feed;
 * - one webhook delivery per endpoint of the tenant subscribed to its type, carrying the
 *   delivery body (Standard Webhooks' `{ type, timestamp, data }`).
 * After the commit, and never before (a listener must find the change in the database), the
 * changes and their delivery ids go to the `ChangePublisher`: Redis fan-out and webhook jobs.
 * A repository whose step is a single statement (its change CTEs included) hands what it appended
 * to `published` itself, after that statement.
 */
@Injectable()
export class ChangeOutbox {
  private readonly logger = new Logger(ChangeOutbox.name);
  /** Changes appended inside each open transaction, published once it commits. */
  private readonly pending = new WeakMap<Tx, CommittedChange[]>();

  constructor(
    private readonly prisma: PrismaService,
    @Optional() @Inject(CHANGE_PUBLISHER) private readonly publisher?: ChangePublisher,
  ) {}

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let appended: CommittedChange[] = [];
    const result = await this.prisma.$transaction(async (tx) => {
      appended = [];
      this.pending.set(tx, appended);
      return fn(tx);
    });
    await this.published(appended);
    return result;
  }

  /** The change and its webhook deliveries, inside a transaction opened by `transaction`. */
  async append(tx: Tx, change: NewChange): Promise<ChangeMessage> {
    const [row] = await tx.$queryRaw<AppendedRow[]>`
      WITH src AS (SELECT ${change.tenantId}::uuid AS tenant_id, ${change.ownerId}::text AS owner_id, ${change.fileId}::uuid AS file_id),
      ${appendChangeCtes('src', change)}
      SELECT ${APPENDED}`;
    if (!row) throw new Error('appending a change returned no row');
    const committed = this.committed(change, row);
    this.pending.get(tx)?.push(committed);
    return committed.change;
  }

  /** What a statement built on `appendChangeCtes` appended, as it is published. */
  committed(change: NewChange, row: AppendedRow): CommittedChange {
    const message = changeMessage({ seq: row.change_seq, type: change.type, fileId: change.fileId, createdAt: row.change_created_at, payload: change.data });
    return { tenantId: change.tenantId, ownerId: change.ownerId, change: message, deliveryIds: row.delivery_ids };
  }

  /** After the commit, and never failing the caller: the database already holds the truth. */
  async published(changes: CommittedChange[]): Promise<void> {
    if (!changes.length || !this.publisher) return;
    await this.publisher.publish(changes).catch((error: unknown) => this.logger.warn({ err: error }, 'publishing committed changes failed'));
  }
}
