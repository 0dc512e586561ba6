import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { MetricsService } from '@app/observability';
import { BUCKET_SETTINGS, BucketPostureInspector, BucketPostureReport, BucketSetting } from '@app/storage';
import type { TrackerConfig } from './config';

/**
 * Reads the bucket's settings back, at start and every BUCKET_POSTURE_CHECK_SECONDS after, and
 * reports where they differ from the posture the environment describes (issue #15,
 * docs/adr/0024-private-bucket.md): a structured warning per difference and
 * `storage_bucket_drift{setting}`. It never changes a setting: production buckets are converged by
 * the storage bootstrap (or infrastructure code), not by a service at run time.
 *
 * It does not hold start-up: storage that is slow to answer delays the report, not the tracker,
 * and a setting that cannot be read (no permission, storage down) is logged and shown by
 * `storage_bucket_posture_unreadable{setting}`, never fatal.
 *
 * Every replica checks on its own timer (a handful of GETs an interval): the alerts take the
 * highest value over replicas, so one replica's stale gauge would hold an alert after the fix.
 * A setting is logged when its state changes (drift found, fixed, unreadable), not at every check.
 */
@Injectable()
export class BucketPostureCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BucketPostureCheck.name);
  private readonly drift;
  private readonly unreadable;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Each setting's state at the last check that read it, so only changes are logged. */
  private readonly last = new Map<BucketSetting, string>();
  /** The latest check, in flight or done (tests wait on it). */
  done: Promise<BucketPostureReport | null> = Promise.resolve(null);

  constructor(
    private readonly inspector: BucketPostureInspector,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<TrackerConfig, 'BUCKET_POSTURE_CHECK_SECONDS'>,
  ) {
    this.drift = metrics.gauge(
      'storage_bucket_drift',
      'Bucket settings that differ from their posture, as last read (1: differs, 0: as the bootstrap sets it)',
      ['setting'],
    );
    this.unreadable = metrics.gauge('storage_bucket_posture_unreadable', 'Bucket settings that could not be read back at the last check (1: unreadable)', [
      'setting',
    ]);
  }

  onApplicationBootstrap(): void {
    this.tick();
    const seconds = this.config.BUCKET_POSTURE_CHECK_SECONDS;
    if (seconds > 0) this.timer = setInterval(() => this.tick(), seconds * 1000).unref();
  }

  /** No check after this; one in flight is not waited for (it only reads, and its answer is moot). */
  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Starts a check unless one is still waiting for storage (slower than the interval: a round is skipped). */
  private tick(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.check().finally(() => (this.running = false));
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
    const first = this.last.size === 0;
    for (const setting of BUCKET_SETTINGS) {
      const drift = report.drift.find((d) => d.setting === setting);
      const unreadable = report.unreadable.find((u) => u.setting === setting);
      const checked = report.checked.includes(setting);
      if (checked) this.drift.set({ setting }, drift ? 1 : 0);
      if (checked || unreadable) this.unreadable.set({ setting }, unreadable ? 1 : 0);
      if (!checked && !unreadable) continue;
      const state = unreadable ? `unreadable ${unreadable.code}` : drift ? `drift ${drift.problem}` : 'as configured';
      const before = this.last.get(setting);
      this.last.set(setting, state);
      if (state === before) continue;
      if (drift) this.logger.warn({ bucket, setting, expected: drift.expected, actual: drift.actual }, `bucket drift: ${setting}: ${drift.problem}`);
      else if (unreadable) this.logger.warn({ bucket, setting, code: unreadable.code, error: unreadable.message }, `bucket posture: cannot read ${setting}`);
      else if (before) this.logger.log({ bucket, setting }, `bucket posture: ${setting} as configured again`);
    }
    if (first && !report.drift.length && !report.unreadable.length) this.logger.log({ bucket, checked: report.checked }, 'bucket posture as configured');
    return report;
  }
}
