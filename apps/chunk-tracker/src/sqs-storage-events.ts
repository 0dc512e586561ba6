import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Gauge } from 'prom-client';
import { MetricsService } from '@app/observability';
import { StorageEventSource } from '@app/storage';
import { StorageEventsService } from './storage-events.service';

/**
 * The SQS source of storage events (STORAGE_EVENTS=sqs): from bootstrap on, every receive is handed
 * to StorageEventsService.handleBatch; what it answers done is deleted, the rest SQS delivers again.
 * StorageEventsModule stops the consumer (draining in-flight batches) at shutdown.
 *
 * Its queues are measured at every scrape (docs/monitoring.md): the events queue and its DLQ by
 * state, and the age of the oldest message the consumer last received.
 */
@Injectable()
export class SqsStorageEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger(SqsStorageEvents.name);

  constructor(
    private readonly source: StorageEventSource,
    private readonly events: StorageEventsService,
    metrics: MetricsService,
  ) {
    metrics.gauge('sqs_messages', 'Messages of the storage-event queue and its DLQ, by state (visible, in_flight)', ['queue', 'state'], (gauge) =>
      this.measure(gauge),
    );
    metrics.gauge(
      'sqs_oldest_message_age_seconds',
      'How long the oldest message of the latest receive had waited in the queue (0 after an empty receive)',
      ['queue'],
      async (gauge) => {
        gauge.set({ queue: 'events' }, this.source.oldestMessageAgeSeconds);
        await Promise.resolve();
      },
    );
  }

  onApplicationBootstrap(): void {
    this.source.start((messages) => this.events.handleBatch(messages));
  }

  private async measure(gauge: Gauge<'queue' | 'state'>): Promise<void> {
    try {
      const [events, dlq] = await Promise.all([this.source.depth(), this.source.deadLetterDepth()]);
      for (const [queue, depth] of [
        ['events', events],
        ['dlq', dlq],
      ] as const) {
        if (!depth) continue;
        gauge.set({ queue, state: 'visible' }, depth.visible);
        gauge.set({ queue, state: 'in_flight' }, depth.inFlight);
      }
    } catch (error) {
      // SQS unreachable: no sample rather than a stale one (readiness reports the outage).
      gauge.reset();
      this.logger.warn({ err: error }, 'could not read the queue depths for metrics');
    }
  }
}
