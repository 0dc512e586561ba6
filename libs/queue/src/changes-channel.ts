import { Logger } from '@nestjs/common';
import type { CommittedChange } from '@app/database';
import type { RedisConnection } from './redis';

/** What travels on the changes channels: one committed change and whose feed it belongs to. */
export interface ChangeNotice {
  tenantId: string;
  ownerId: string;
  change: CommittedChange['change'];
}

/** One sync-notifier replica's subscription: the owners it serves, added and removed as devices come and go. */
export interface ChangeSubscription {
  /** Resolves once Redis confirmed the subscription (or refused it: logged, never rejected). */
  add(tenantId: string, ownerId: string): Promise<void>;
  remove(tenantId: string, ownerId: string): void;
  close(): void;
}

/**
 * Redis sharded pub/sub between the writers and the sync-notifier replicas, both ends of it. Each
 * owner has a channel of its own (SPUBLISH/SSUBSCRIBE, Redis 7): a replica subscribes only to
 * the owners whose devices or long-polls it holds, so it receives only their changes, and on a
 * cluster each owner's channel lives on the master of its hash slot, so the fan-out spreads over
 * the masters instead of every message reaching every node.
 *
 * Delivery is at most once: a notice is a hint, never the data of record, so a lost one only
 * delays a device until it next reads the feed from its cursor, and a subscriber is told when
 * notices may have been lost.
 */
export class RedisChangesChannel {
  private readonly logger = new Logger(RedisChangesChannel.name);

  /**
   * @param redis the (fail-fast) producer connection that publishes
   * @param connectSubscriber opens a connection of its own for each subscription: a subscribed
   *   connection can send nothing else, and must keep reconnecting
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly connectSubscriber: () => RedisConnection,
  ) {}

  /** An owner's channel; the hash tag keeps it on one slot of a cluster. */
  channelOf(tenantId: string, ownerId: string): string {
    return `${this.prefix}:changes:{${tenantId}:${ownerId}}`;
  }

  /**
   * Each notice on its owner's channel, all sent at once (on a cluster they may go to different
   * masters). A notice Redis refused is logged and dropped: its change is committed already.
   */
  async publish(notices: ChangeNotice[]): Promise<void> {
    const results = await Promise.allSettled(notices.map((n) => this.redis.spublish(this.channelOf(n.tenantId, n.ownerId), JSON.stringify(n))));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused.length) this.logger.warn({ err: refused[0].reason as unknown, failed: refused.length }, 'publishing a change notice failed');
  }

  /**
   * Calls onNotice with each notice published from now on to the owners added, and onGap when the
   * subscription was interrupted and is back (notices published meanwhile are lost: read the
   * database). Never waits for Redis: a subscription starts once Redis answers.
   */
  subscribe(onNotice: (notice: ChangeNotice) => void, onGap: () => void): ChangeSubscription {
    const subscriber = this.connectSubscriber();
    let interrupted = false;
    subscriber.on('smessage', (_channel: string, message: string) => {
      const notice = parse(message);
      if (notice) onNotice(notice);
    });
    const resumed = () => {
      // ioredis subscribes again by itself after a reconnect; what was published meanwhile is lost.
      if (interrupted) {
        interrupted = false;
        onGap();
      }
    };
    subscriber.on('close', () => (interrupted = true));
    subscriber.on('ready', resumed);
    // A cluster's sharded subscribers (one connection per master) come and go on their own: the
    // loss of one is an interruption too.
    subscriber.on('-subscriber', () => (interrupted = true));
    subscriber.on('+subscriber', resumed);
    subscriber.on('subscribersReady', resumed);
    const failed = (error: unknown) => this.logger.warn({ err: error }, 'changing the changes subscription failed');
    return {
      add: (tenantId, ownerId) => subscriber.ssubscribe(this.channelOf(tenantId, ownerId)).then(() => undefined, failed),
      remove: (tenantId, ownerId) => void subscriber.sunsubscribe(this.channelOf(tenantId, ownerId)).catch(failed),
      close: () => subscriber.disconnect(),
    };
  }
}

function parse(message: string): ChangeNotice | null {
  try {
    return JSON.parse(message) as ChangeNotice;
  } catch {
    return null;
  }
}
