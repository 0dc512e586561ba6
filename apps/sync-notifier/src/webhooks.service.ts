import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { APP_CONFIG } from '@app/config';
import type { WebhookEnv } from '@app/config';
import { DomainError } from '@app/contracts';
import { ATTEMPT_OUTCOMES, DeliveryStatusName, WebhookRepository } from '@app/database';
import { MetricsService, traceHeaders } from '@app/observability';
import { JobPayloads, JobQueue, OnJob } from '@app/queue';
import { deliveryHeaders } from './webhook-signature';
import { checkTarget, deliveryAgent } from './webhook-targets';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const MAX_RESPONSE_BYTES = 64 * 1024;
const SWEEP_AFTER_MS = 2 * 60_000;

interface Attempt {
  statusCode: number | null;
  error: string | null;
}

/**
 * Webhooks for internal teams (Standard Webhooks). Deliveries are written in the transaction of
 * the change they carry (ChangeEventRepository.append), enqueued after the commit, and POSTed
 * here: signed with the endpoint's secret (and, for WEBHOOK_SECRET_GRACE_HOURS after a rotation,
 * the previous one too), with the same `webhook-id` on every attempt. A 2xx is success; anything
 * else is retried with doubling delays until WEBHOOK_MAX_ATTEMPTS, then the delivery is `dead`.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly attempts;
  private readonly attemptSeconds;
  private readonly lagSeconds;

  constructor(
    @Inject(APP_CONFIG) private readonly config: WebhookEnv,
    private readonly webhooks: WebhookRepository,
    private readonly jobs: JobQueue,
    metrics: MetricsService,
  ) {
    this.attempts = metrics.counter('webhook_attempts_total', 'Webhook delivery attempts, by what became of the delivery', ['status']);
    // Every status from 0, so the first dead delivery is an increase the alert sees (docs/monitoring.md).
    for (const status of ATTEMPT_OUTCOMES) this.attempts.inc({ status }, 0);
    // Bounded by WEBHOOK_TIMEOUT_MS: slow receivers show in the top buckets before they time out.
    this.attemptSeconds = metrics.histogram(
      'webhook_delivery_duration_seconds',
      'One webhook POST, from sending to the answer (or the error), by what became of the delivery',
      ['status'],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    // From the change's commit to its receiver's 2xx, retries included: what a receiver waits.
    this.lagSeconds = metrics.histogram(
      'webhook_delivery_lag_seconds',
      'From the change (the delivery written with it) to its successful delivery',
      [],
      [0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600, 21600],
    );
  }

  async create(tenantId: string, body: { url: string; events: string[] }) {
    await checkTarget(body.url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS);
    const events = body.events.includes('*') ? ['*'] : [...new Set(body.events)];
    const created = await this.webhooks.create({ tenantId, url: body.url, events, secret: newSecret() });
    return { id: created.id, url: created.url, events: created.events, secret: created.secret };
  }

  async rotate(tenantId: string, id: string) {
    const rotated = await this.webhooks.rotate(tenantId, id, newSecret(), new Date());
    if (!rotated) throw new DomainError('not_found', 'No such webhook.');
    return { id: rotated.id, url: rotated.url, events: rotated.events, secret: rotated.secret };
  }

  async owned(tenantId: string, id: string) {
    const webhook = await this.webhooks.find(tenantId, id);
    if (!webhook) throw new DomainError('not_found', 'No such webhook.');
    return webhook;
  }

  @OnJob('webhook.deliver')
  async deliver(payload: JobPayloads['webhook.deliver']): Promise<{ outcome: DeliveryStatusName | 'skipped' }> {
    const delivery = await this.webhooks.findDelivery(payload.deliveryId);
    // Its endpoint was deleted (the log with it), or an earlier run finished it.
    if (!delivery || delivery.status === 'succeeded' || delivery.status === 'dead' || delivery.webhook.disabledAt) return { outcome: 'skipped' };
    const now = new Date();
    const body = JSON.stringify(delivery.payload);
    const secrets = [delivery.webhook.secret];
    const grace = this.config.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000;
    if (delivery.webhook.previousSecret && delivery.webhook.rotatedAt && now.getTime() - delivery.webhook.rotatedAt.getTime() < grace)
      secrets.push(delivery.webhook.previousSecret);
    const sent = performance.now();
    const attempt = await this.post(delivery.webhook.url, traceHeaders(deliveryHeaders(delivery.id, now, body, secrets)), body);
    const seconds = (performance.now() - sent) / 1000;
    const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
    const last = delivery.attempts + 1 >= this.config.WEBHOOK_MAX_ATTEMPTS;
    const status: DeliveryStatusName = ok ? 'succeeded' : last ? 'dead' : 'failed';
    await this.webhooks.recordAttempt(delivery.id, { status, statusCode: attempt.statusCode, error: attempt.error, at: now });
    this.attempts.inc({ status });
    this.attemptSeconds.observe({ status }, seconds);
    if (ok) this.lagSeconds.observe(Math.max(0, (Date.now() - delivery.createdAt.getTime()) / 1000));
    if (status === 'failed') throw new Error(`delivery ${delivery.id} failed: ${attempt.error ?? `HTTP ${attempt.statusCode}`}`);
    if (status === 'dead')
      this.logger.warn({ deliveryId: delivery.id, webhookId: delivery.webhookId, attempts: delivery.attempts + 1 }, 'webhook delivery given up');
    return { outcome: status };
  }

  /**
   * The outbox's backstop: deliveries whose job was lost with Redis (or never enqueued) get one,
   * all of them, a page at a time (WEBHOOK_SWEEP_BATCH_SIZE), each page enqueued in one call.
   */
  @OnJob('webhooks.sweep')
  async sweep(): Promise<{ enqueued: number }> {
    const olderThan = new Date(Date.now() - SWEEP_AFTER_MS);
    const pageSize = this.config.WEBHOOK_SWEEP_BATCH_SIZE;
    let enqueued = 0;
    for (let page = await this.webhooks.owed(olderThan, pageSize); page.length; page = await this.webhooks.owed(olderThan, pageSize, page.at(-1))) {
      await this.jobs.enqueueMany(
        'webhook.deliver',
        page.map(({ id }) => ({ payload: { v: 1, deliveryId: id }, jobId: `wh-${id}` })),
      );
      enqueued += page.length;
      if (page.length < pageSize) break;
    }
    return { enqueued };
  }

  /** One POST: no redirects followed, the answer read up to 64 KiB and discarded, a timeout. */
  private post(url: string, headers: Record<string, string>, body: string): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      let settled = false;
      const done = (a: Attempt) => {
        if (!settled) resolve(a);
        settled = true;
      };
      try {
        const req = send(
          url,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            agent: deliveryAgent(url, this.config.WEBHOOK_ALLOW_PRIVATE_TARGETS),
            timeout: this.config.WEBHOOK_TIMEOUT_MS,
          },
          (res) => {
            let read = 0;
            res.on('data', (chunk: Buffer) => {
              read += chunk.length;
              if (read > MAX_RESPONSE_BYTES) res.destroy();
            });
            res.on('close', () => done({ statusCode: res.statusCode ?? null, error: null }));
            res.on('error', () => done({ statusCode: res.statusCode ?? null, error: null }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${this.config.WEBHOOK_TIMEOUT_MS} ms`)));
        req.on('error', (error) => done({ statusCode: null, error: error.message.slice(0, 500) }));
        req.end(body);
      } catch (error) {
        done({ statusCode: null, error: (error as Error).message.slice(0, 500) });
      }
    });
  }
}
