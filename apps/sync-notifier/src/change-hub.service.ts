import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '@app/config';
import type { RedisEnv } from '@app/config';
import { ChangeNotice, changesChannel, createRedis } from '@app/queue';

/** Called with a change notice, or with null when notices may have been lost (read the database). */
export type NoticeListener = (notice: ChangeNotice | null) => void;

const ownerKey = (tenantId: string, ownerId: string) => `${tenantId}\u0000${ownerId}`;

/**
 * This replica's end of the fan-out: one Redis subscription to the changes channel, dispatched
 * in-process to the devices and long-polls of each owner connected here. Notices are hints, never
 * the data of record: after the subscription was interrupted, every listener is told to catch up
 * from the database, so a message lost while Redis was away only delays a change.
 */
@Injectable()
export class ChangeHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeHub.name);
  private readonly listeners = new Map<string, Set<NoticeListener>>();
  private subscriber: Redis | null = null;
  private interrupted = false;

  constructor(@Inject(APP_CONFIG) private readonly config: RedisEnv) {}

  onModuleInit(): void {
    const subscriber = createRedis(this.config.REDIS_URL, 'worker');
    const channel = changesChannel(this.config.QUEUE_PREFIX);
    subscriber.on('message', (_channel: string, message: string) => this.dispatch(message));
    subscriber.on('close', () => (this.interrupted = true));
    subscriber.on('ready', () => {
      // ioredis re-subscribes by itself after a reconnect; what was published meanwhile is lost.
      if (this.interrupted) {
        this.interrupted = false;
        this.logger.warn('changes subscription restored; every listener catches up from the database');
        for (const set of this.listeners.values()) for (const listener of set) listener(null);
      }
    });
    void subscriber.subscribe(channel).catch((error: unknown) => this.logger.warn({ err: error }, 'subscribing to changes failed'));
    this.subscriber = subscriber;
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  /** Listens to one owner's notices; returns the unsubscribe function. */
  listen(tenantId: string, ownerId: string, listener: NoticeListener): () => void {
    const key = ownerKey(tenantId, ownerId);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  private dispatch(message: string): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(message) as ChangeNotice;
    } catch {
      return;
    }
    const set = this.listeners.get(ownerKey(notice.tenantId, notice.ownerId));
    if (set) for (const listener of set) listener(notice);
  }
}
