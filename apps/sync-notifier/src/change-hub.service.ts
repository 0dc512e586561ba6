import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ChangeNotice, RedisChangesChannel } from '@app/queue';

/** Called with a change notice, or with null when notices may have been lost (read the database). */
export type NoticeListener = (notice: ChangeNotice | null) => void;

const ownerKey = (tenantId: string, ownerId: string) => `${tenantId}\u0000${ownerId}`;

/**
 * This replica's end of the fan-out: one subscription to the changes channel, dispatched
 * in-process to the devices and long-polls of each owner connected here. Notices are hints, never
 * the data of record: after the subscription was interrupted, every listener is told to catch up
 * from the database, so a message lost while Redis was away only delays a change.
 */
@Injectable()
export class ChangeHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeHub.name);
  private readonly listeners = new Map<string, Set<NoticeListener>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly channel: RedisChangesChannel) {}

  onModuleInit(): void {
    this.unsubscribe = this.channel.subscribe(
      (notice) => this.dispatch(notice),
      () => {
        this.logger.warn('changes subscription restored; every listener catches up from the database');
        for (const set of this.listeners.values()) for (const listener of set) listener(null);
      },
    );
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
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

  private dispatch(notice: ChangeNotice): void {
    const set = this.listeners.get(ownerKey(notice.tenantId, notice.ownerId));
    if (set) for (const listener of set) listener(notice);
  }
}
