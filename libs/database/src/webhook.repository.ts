import { Injectable } from '@nestjs/common';
import type { ChangeType } from '@app/contracts';
import type { Tx } from './change-event.repository';
import { PrismaService } from './prisma.service';

export type DeliveryStatusName = 'pending' | 'succeeded' | 'failed' | 'dead';

/** Webhook endpoints of a tenant and the log of their deliveries. */
@Injectable()
export class WebhookRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(w: { tenantId: string; url: string; events: string[]; secret: string }) {
    return this.prisma.webhook.create({ data: w });
  }

  list(tenantId: string) {
    return this.prisma.webhook.findMany({ where: { tenantId, disabledAt: null }, orderBy: { createdAt: 'asc' } });
  }

  find(tenantId: string, id: string) {
    return this.prisma.webhook.findFirst({ where: { id, tenantId, disabledAt: null } });
  }

  /** Removes the endpoint and its log: nothing more is written for it, pending jobs find nothing. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.webhook.deleteMany({ where: { id, tenantId } });
    return count === 1;
  }

  /** A new secret; the previous one keeps signing (second signature) until the grace period ends. */
  async rotate(tenantId: string, id: string, secret: string, now: Date) {
    const current = await this.find(tenantId, id);
    if (!current) return null;
    return this.prisma.webhook.update({ where: { id }, data: { secret, previousSecret: current.secret, rotatedAt: now } });
  }

  /**
   * The outbox rows of one change: a pending delivery for every live endpoint of the tenant that
   * subscribed to its type (or to `*`), in the change's transaction. Returns their ids.
   */
  async insertDeliveries(tx: Tx, d: { tenantId: string; type: ChangeType; changeEventId: bigint; body: unknown }): Promise<string[]> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO webhook_deliveries (id, webhook_id, change_event_id, event_type, payload)
      SELECT gen_random_uuid(), w.id, ${d.changeEventId}, ${d.type}, ${JSON.stringify(d.body)}::jsonb
      FROM webhooks w
      WHERE w.tenant_id = ${d.tenantId}::uuid AND w.disabled_at IS NULL AND (${d.type} = ANY(w.events) OR '*' = ANY(w.events))
      RETURNING id::text`;
    return rows.map((r) => r.id);
  }

  findDelivery(id: string) {
    return this.prisma.webhookDelivery.findUnique({ where: { id }, include: { webhook: true } });
  }

  async recordAttempt(id: string, a: { status: DeliveryStatusName; statusCode: number | null; error: string | null; at: Date }) {
    await this.prisma.webhookDelivery.update({
      where: { id },
      data: {
        status: a.status,
        attempts: { increment: 1 },
        lastStatusCode: a.statusCode,
        lastError: a.error,
        lastAttemptAt: a.at,
        ...(a.status === 'succeeded' ? { deliveredAt: a.at } : {}),
      },
    });
  }

  /** Newest first, paged by (createdAt, id). */
  deliveries(webhookId: string, q: { before?: { createdAt: Date; id: string }; status?: DeliveryStatusName; limit: number }) {
    return this.prisma.webhookDelivery.findMany({
      where: {
        webhookId,
        ...(q.status ? { status: q.status } : {}),
        ...(q.before ? { OR: [{ createdAt: { lt: q.before.createdAt } }, { createdAt: q.before.createdAt, id: { lt: q.before.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: q.limit,
    });
  }

  /** Deliveries still owed whose job may have been lost: never attempted, or failed and quiet since. */
  async owed(olderThan: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.webhookDelivery.findMany({
      where: { status: { in: ['pending', 'failed'] }, OR: [{ lastAttemptAt: null, createdAt: { lt: olderThan } }, { lastAttemptAt: { lt: olderThan } }] },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
