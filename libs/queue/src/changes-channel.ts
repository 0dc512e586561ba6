import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { CommittedChange } from '@app/database';

/** What travels on the changes channel: one committed change and whose feed it belongs to. */
export interface ChangeNotice {
  tenantId: string;
  ownerId: string;
  change: CommittedChange['change'];
}

/**
 * The Redis pub/sub channel between the writers and every sync-notifier replica, both ends of it.
 * Delivery is at most once: a notice is a hint, never the data of record, so a lost one only
 * delays a device until it next reads the feed from its cursor, and a subscriber is told when
 * notices may have been lost.
 */
export class RedisChangesChannel {
  private readonly logger = new Logger(RedisChangesChannel.name);
  private readonly channel: string;

  /**
   * @param redis the (fail-fast) producer connection that publishes
   * @param connectSubscriber opens a connection of its own for each subscription: a subscribed
   *   connection can send nothing else, and must keep reconnecting
   */
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly connectSubscriber: () => Redis,
  ) {
    this.channel = `${prefix}:changes`;
  }

  /** One round trip for the lot. A notice Redis refused is logged and dropped: its change is committed already. */
  async publish(notices: ChangeNotice[]): Promise<void> {
    if (!notices.length) return;
    const pipeline = this.redis.pipeline();
    for (const notice of notices) pipeline.publish(this.channel, JSON.stringify(notice));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) this.logger.warn({ err: failed[0] }, 'publishing a change notice failed');
  }

  /**
   * Calls onNotice with each notice published from now on, and onGap when the subscription was
   * interrupted and is back (notices published meanwhile are lost: read the database). Returns
   * the function that ends the subscription and closes its connection. Never waits for Redis: the
   * subscription starts once Redis answers.
   */
  subscribe(onNotice: (notice: ChangeNotice) => void, onGap: () => void): () => void {
    const subscriber = this.connectSubscriber();
    let interrupted = false;
    subscriber.on('message', (_channel: string, message: string) => {
      const notice = parse(message);
      if (notice) onNotice(notice);
    });
    subscriber.on('close', () => (interrupted = true));
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself after a reconnect; what was published meanwhile is lost.
      if (interrupted) {
        interrupted = false;
        onGap();
      }
    });
    void subscriber.subscribe(this.channel).catch((error: unknown) => this.logger.warn({ err: error }, 'subscribing to changes failed'));
    return () => subscriber.disconnect();
  }
}

function parse(message: string): ChangeNotice | null {
  try {
    return JSON.parse(message) as ChangeNotice;
  } catch {
    return null;
  }
}
