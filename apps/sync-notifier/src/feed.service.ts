import { Injectable } from '@nestjs/common';
import type { OwnerScope } from '@app/auth';
import { ChangeMessage, DomainError } from '@app/contracts';
import { ChangeEventRepository, cursorOf } from '@app/database';

export interface FeedPage {
  changes: ChangeMessage[];
  cursor: string;
}

/** Reading an owner's feed from a cursor: the database is the record every push is checked against. */
@Injectable()
export class FeedService {
  constructor(private readonly changes: ChangeEventRepository) {}

  /**
   * The sequence number after which to read, checked against the feed: a cursor older than the
   * retained history answers 410 `cursor_expired` (the client resyncs in full), one this feed
   * never handed out 400. No cursor: from the start of what is retained.
   */
  async start(scope: OwnerScope, cursor: string | undefined): Promise<bigint> {
    if (cursor === undefined) return 0n;
    const seq = BigInt(cursor);
    if (seq === 0n) return 0n;
    const { lastSeq, oldestSeq } = await this.changes.bounds(scope.tenantId, scope.ownerId);
    if (seq > lastSeq)
      throw new DomainError('validation_failed', 'This cursor was not handed out by this feed.', {
        errors: [{ field: 'cursor', message: 'is ahead of the feed' }],
      });
    const firstKept = oldestSeq ?? lastSeq + 1n;
    if (seq + 1n < firstKept)
      throw new DomainError('cursor_expired', 'Changes after this cursor are no longer retained: list the files again and follow the feed from its start.');
    return seq;
  }

  async page(scope: OwnerScope, afterSeq: bigint, limit: number): Promise<FeedPage> {
    const changes = await this.changes.listAfter(scope.tenantId, scope.ownerId, afterSeq, limit);
    return { changes, cursor: changes.length ? changes[changes.length - 1].cursor : cursorOf(afterSeq) };
  }
}
