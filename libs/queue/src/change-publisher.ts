import type { ChangePublisher, CommittedChange } from '@app/database';
import type { RedisChangesChannel } from './changes-channel';
import type { JobQueue } from './job-queue';

/**
 * After a commit: PUBLISH each change for the sync-notifier replicas (fire and forget: a lost
 * message only delays a device until its next fetch from its cursor) and enqueue the webhook
 * deliveries written with it (job id = delivery id, so sync-notifier's sweep of pending
 * deliveries can re-enqueue a lost one without doubling it).
 */
export class RedisChangePublisher implements ChangePublisher {
  constructor(
    private readonly channel: RedisChangesChannel,
    private readonly jobs: JobQueue,
  ) {}

  async publish(changes: CommittedChange[]): Promise<void> {
    await this.channel.publish(changes.map((c) => ({ tenantId: c.tenantId, ownerId: c.ownerId, change: c.change })));
    // Together, not one round trip after another: this runs on the writer's request path.
    const deliveries = changes.flatMap((c) => c.deliveryIds);
    await Promise.all(deliveries.map((deliveryId) => this.jobs.enqueue('webhook.deliver', { v: 1, deliveryId }, { jobId: `wh-${deliveryId}` })));
  }
}
