import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

export type DeliveryStatusName = 'pending' | 'succeeded' | 'failed' | 'dead';
/** What an attempt makes of a delivery (the statuses after `pending`). */
export const ATTEMPT_OUTCOMES = ['succeeded', 'failed', 'dead'] as const satisfies readonly DeliveryStatusName[];

/** Where a sweep of owed deliveries stands. */
export interface OwedCursor {
  id: string;
  createdAt: Date;
}

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

  /**
   * A page of deliveries still owed whose job may have been lost (never attempted, or failed and
   * quiet since `olderThan`), oldest first, after `after`. Keyset on (created_at, id), read from a
   * partial index holding only owed rows, so a sweep costs what is owed, not the whole log.
   */
  async owed(olderThan: Date, limit: number, after: OwedCursor | null = null): Promise<OwedCursor[]> {
    const [afterAt, afterId] = after ? [after.createdAt, after.id] : [new Date(0), '00000000-0000-0000-0000-000000000000'];
    return this.prisma.$queryRaw<OwedCursor[]>`
      SELECT id, created_at AS "createdAt" FROM webhook_deliveries
      WHERE status IN ('pending', 'failed') AND coalesce(last_attempt_at, created_at) < ${olderThan}
        AND (created_at, id) > (${afterAt}, ${afterId}::uuid)
      ORDER BY created_at, id
      LIMIT ${limit}`;
  }
}
