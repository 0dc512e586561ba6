import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ChangePublisher, CommittedChange } from '@app/database';
import type { JobQueue } from './job-queue';

/** The Redis pub/sub channel every sync-notifier replica subscribes to. */
export const changesChannel = (prefix: string) => `${prefix}:changes`;

/** What travels on the channel: one committed change and whose feed it belongs to. */
export interface ChangeNotice {
  tenantId: string;
  ownerId: string;
  change: CommittedChange['change'];
}

/**
 * After a commit: PUBLISH each change for the sync-notifier replicas (fire and forget: a lost
 * message only delays a device until its next fetch from its cursor) and enqueue the webhook
 * deliveries written with it (job id = delivery id, so sync-notifier's sweep of pending
 * deliveries can re-enqueue a lost one without doubling it).
 */
export class RedisChangePublisher implements ChangePublisher {
  private readonly logger = new Logger(RedisChangePublisher.name);

  constructor(
    private readonly redis: Redis,
    private readonly jobs: JobQueue,
    private readonly prefix: string,
  ) {}

  async publish(changes: CommittedChange[]): Promise<void> {
    const channel = changesChannel(this.prefix);
    const pipeline = this.redis.pipeline();
    for (const c of changes) pipeline.publish(channel, JSON.stringify({ tenantId: c.tenantId, ownerId: c.ownerId, change: c.change } satisfies ChangeNotice));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) this.logger.warn({ err: failed[0] }, 'publishing a change notice failed');
    // Together, not one round trip after another: this runs on the writer's request path.
    const deliveries = changes.flatMap((c) => c.deliveryIds);
    await Promise.all(deliveries.map((deliveryId) => this.jobs.enqueue('webhook.deliver', { v: 1, deliveryId }, { jobId: `wh-${deliveryId}` })));
  }
}
