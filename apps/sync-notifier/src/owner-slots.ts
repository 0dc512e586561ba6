import { Inject, Injectable } from '@nestjs/common';
import type { OwnerScope } from '@app/auth';
import { APP_CONFIG } from '@app/config';
import type { SyncEnv } from '@app/config';

/**
 * The connections one owner holds on this replica, WebSockets and long-polls alike, capped at
 * SYNC_MAX_CONNECTIONS_PER_OWNER (issue #11: 2,000 sockets for one owner). A slot is taken when a
 * connection is accepted and given back by the release `take` returns, which callers wire to
 * every way the connection can end; calling it twice gives back one slot, not two.
 */
@Injectable()
export class OwnerSlots {
  private readonly held = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: Pick<SyncEnv, 'SYNC_MAX_CONNECTIONS_PER_OWNER'>) {}

  get limit(): number {
    return this.config.SYNC_MAX_CONNECTIONS_PER_OWNER;
  }

  /** A slot for the owner and its release, or null when the owner holds them all. */
  take(scope: OwnerScope): (() => void) | null {
    const key = `${scope.tenantId}\u0000${scope.ownerId}`;
    const open = this.held.get(key) ?? 0;
    if (open >= this.limit) return null;
    this.held.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }

  /** Slots held by the owner now (for tests and metrics). */
  heldBy(scope: OwnerScope): number {
    return this.held.get(`${scope.tenantId}\u0000${scope.ownerId}`) ?? 0;
  }
}
