import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import { BUCKET_SETTINGS, BucketPostureInspector, BucketPostureReport } from '@app/storage';

/**
 * At start, reads the bucket's settings back and reports where they differ from the posture the
 * environment describes (issue #15, docs/adr/0024-private-bucket.md): a structured warning per
 * difference and `storage_bucket_drift{setting}`. It never changes a setting: production buckets
 * are converged by the storage bootstrap (or infrastructure code), not by a service at run time.
 *
 * It does not hold start-up: storage that is slow to answer delays the report, not the tracker,
 * and a setting that cannot be read (no permission, storage down) is logged and shown by
 * `storage_bucket_posture_unreadable{setting}`, never fatal.
 */
@Injectable()
export class BucketPostureCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(BucketPostureCheck.name);
  private readonly drift;
  private readonly unreadable;
  /** The start-up check in flight or done (tests and shutdown wait on it). */
  done: Promise<BucketPostureReport | null> = Promise.resolve(null);

  constructor(
    private readonly inspector: BucketPostureInspector,
    metrics: MetricsService,
  ) {
    this.drift = metrics.gauge(
      'storage_bucket_drift',
      'Bucket settings that differ from their posture, as read at start (1: differs, 0: as the bootstrap sets it)',
      ['setting'],
    );
    this.unreadable = metrics.gauge('storage_bucket_posture_unreadable', 'Bucket settings that could not be read back at start (1: unreadable)', ['setting']);
  }

  onApplicationBootstrap(): void {
    this.done = this.check();
  }

  async check(): Promise<BucketPostureReport | null> {
    const bucket = this.inspector.posture.bucket;
    let report: BucketPostureReport;
    try {
      report = await this.inspector.inspect();
    } catch (error) {
      this.logger.warn({ bucket, err: error }, 'could not check the bucket posture');
      return null;
    }
    for (const setting of BUCKET_SETTINGS) {
      const checked = report.checked.includes(setting);
      const unreadable = report.unreadable.some((u) => u.setting === setting);
      if (checked) this.drift.set({ setting }, report.drift.some((d) => d.setting === setting) ? 1 : 0);
      if (checked || unreadable) this.unreadable.set({ setting }, unreadable ? 1 : 0);
    }
    for (const d of report.drift) {
      this.logger.warn({ bucket, setting: d.setting, expected: d.expected, actual: d.actual }, `bucket drift: ${d.setting}: ${d.problem}`);
    }
    for (const u of report.unreadable) {
      this.logger.warn({ bucket, setting: u.setting, code: u.code, error: u.message }, `bucket posture: cannot read ${u.setting}`);
    }
    if (!report.drift.length && !report.unreadable.length) this.logger.log({ bucket, checked: report.checked }, 'bucket posture as configured');
    return report;
  }
}
