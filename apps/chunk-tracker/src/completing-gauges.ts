import { Injectable, Logger } from '@nestjs/common';
import { FileRepository } from '@app/database';
import { MetricsService } from '@app/observability';

/**
 * Uploads in `completing`, read at every scrape: storage is assembling their parts, which takes
 * seconds. One there for minutes is stuck (a lost job, storage refusing), which the reconciler
 * retries; the oldest one's age is what ops alert on (docs/monitoring.md). One indexed query
 * (files by status and status_changed_at) serves both gauges.
 */
@Injectable()
export class CompletingGauges {
  private readonly logger = new Logger(CompletingGauges.name);
  private summary?: Promise<{ count: number; oldestSince: Date | null }>;

  constructor(
    private readonly files: FileRepository,
    metrics: MetricsService,
  ) {
    metrics.gauge('uploads_completing', 'Uploads whose parts storage is assembling (status completing)', [], async (gauge) => {
      const s = await this.read();
      if (s) gauge.set(s.count);
      else gauge.reset();
    });
    metrics.gauge('uploads_completing_oldest_age_seconds', 'How long the upload longest in completing has been there (0: none)', [], async (gauge) => {
      const s = await this.read();
      if (s) gauge.set(s.oldestSince ? Math.max(0, (Date.now() - s.oldestSince.getTime()) / 1000) : 0);
      else gauge.reset();
    });
  }

  /** One query per scrape for both gauges (each collects on its own); null when the database fails. */
  private async read(): Promise<{ count: number; oldestSince: Date | null } | null> {
    this.summary ??= this.files.statusSummary('completing').finally(() => setTimeout(() => (this.summary = undefined), 1_000).unref());
    try {
      return await this.summary;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not count the uploads in completing for metrics');
      return null;
    }
  }
}
