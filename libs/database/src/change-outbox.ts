import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { ChangeMessage } from '@app/contracts';
import { ChangeEventRepository, NewChange, Tx } from './change-event.repository';
import { PrismaService } from './prisma.service';
import { WebhookRepository } from './webhook.repository';

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
 * `transaction`, and records each change with `append`, which writes, in that transaction:
 * - the change on the owner's feed (ChangeEventRepository);
 * - one webhook delivery per endpoint of the tenant subscribed to its type, carrying the
 *   delivery body (Standard Webhooks' `{ type, timestamp, data }`).
 * After the commit, and never before (a listener must find the change in the database), the
 * changes and their delivery ids go to the `ChangePublisher`: Redis fan-out and webhook jobs.
 */
@Injectable()
export class ChangeOutbox {
  private readonly logger = new Logger(ChangeOutbox.name);
  /** Changes appended inside each open transaction, published once it commits. */
  private readonly pending = new WeakMap<Tx, CommittedChange[]>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly changes: ChangeEventRepository,
    private readonly webhooks: WebhookRepository,
    @Optional() @Inject(CHANGE_PUBLISHER) private readonly publisher?: ChangePublisher,
  ) {}

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

  /** The change and its webhook deliveries, inside a transaction opened by `transaction`. */
  async append(tx: Tx, change: NewChange): Promise<ChangeMessage> {
    const { id, message } = await this.changes.append(tx, change);
    const body = { type: change.type, timestamp: message.at, data: { ...change.data, fileId: change.fileId, ownerId: change.ownerId, cursor: message.cursor } };
    const deliveryIds = await this.webhooks.insertDeliveries(tx, { tenantId: change.tenantId, type: change.type, changeEventId: id, body });
    this.pending.get(tx)?.push({ tenantId: change.tenantId, ownerId: change.ownerId, change: message, deliveryIds });
    return message;
  }
}
