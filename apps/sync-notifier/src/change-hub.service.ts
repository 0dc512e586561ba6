import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ChangeNotice, ChangeSubscription, RedisChangesChannel } from '@app/queue';

/** Called with a change notice, or with null when notices may have been lost (read the database). */
export type NoticeListener = (notice: ChangeNotice | null) => void;

/** A listener's registration: `ready` once its owner's channel is subscribed, so a read after it misses nothing. */
export interface Listening {
  ready: Promise<void>;
  stop(): void;
}

/** How long a listener waits for its owner's subscription before reading anyway (Redis down: the gap catch-up covers it). */
const SUBSCRIBE_WAIT_MS = 1_000;

interface OwnerListeners {
  listeners: Set<NoticeListener>;
  subscribed: Promise<void>;
}

const ownerKey = (tenantId: string, ownerId: string) => `${tenantId}\u0000${ownerId}`;

/**
 * This replica's end of the fan-out: one subscription, to the channels of the owners connected
 * here (added with an owner's first device or long-poll, removed with its last), dispatched
 * in-process to their devices and long-polls. Notices are hints, never the data of record: after
 * the subscription was interrupted, every listener is told to catch up from the database, so a
 * message lost while Redis was away only delays a change.
 */
@Injectable()
export class ChangeHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeHub.name);
  private readonly owners = new Map<string, OwnerListeners>();
  private subscription: ChangeSubscription | null = null;

  constructor(private readonly channel: RedisChangesChannel) {}

  onModuleInit(): void {
    this.subscription = this.channel.subscribe(
      (notice) => this.dispatch(notice),
      () => {
        this.logger.warn('changes subscription restored; every listener catches up from the database');
        for (const owner of this.owners.values()) for (const listener of owner.listeners) listener(null);
      },
    );
  }

  onApplicationShutdown(): void {
    this.subscription?.close();
  }

  /**
   * Listens to one owner's notices. Read the feed after `ready`: a change committed before the
   * subscription took effect is then in that read, and one committed after it is notified.
   */
  listen(tenantId: string, ownerId: string, listener: NoticeListener): Listening {
    const key = ownerKey(tenantId, ownerId);
    let owner = this.owners.get(key);
    if (!owner) {
      owner = { listeners: new Set(), subscribed: this.subscription?.add(tenantId, ownerId) ?? Promise.resolve() };
      this.owners.set(key, owner);
    }
    const current = owner;
    current.listeners.add(listener);
    const stop = () => {
      current.listeners.delete(listener);
      // Only the entry still registered counts: a listener stopped twice must not drop a newer entry's channel.
      if (current.listeners.size === 0 && this.owners.get(key) === current) {
        this.owners.delete(key);
        this.subscription?.remove(tenantId, ownerId);
      }
    };
    const waited = new Promise<void>((resolve) => setTimeout(resolve, SUBSCRIBE_WAIT_MS).unref());
    return { ready: Promise.race([current.subscribed, waited]), stop };
  }

  private dispatch(notice: ChangeNotice): void {
    const owner = this.owners.get(ownerKey(notice.tenantId, notice.ownerId));
    if (owner) for (const listener of owner.listeners) listener(notice);
  }
}
