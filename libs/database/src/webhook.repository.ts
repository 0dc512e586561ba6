import { Injectable } from '@nestjs/common';
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
