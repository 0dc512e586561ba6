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
    // One round trip for all of them: this runs on the writer's request path.
    await this.jobs.enqueueMany(
      'webhook.deliver',
      changes.flatMap((c) => c.deliveryIds.map((deliveryId) => ({ payload: { v: 1, deliveryId }, jobId: `wh-${deliveryId}` }))),
    );
  }
}
