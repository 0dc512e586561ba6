import { Injectable, Optional } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '@app/observability';

/**
 * The upload counters ops watch (docs/monitoring.md), counted where the lifecycle commits each
 * step, so every path that moves an upload (a request, a storage event, the reconciler, a job)
 * counts once and only when the step happened. Without the observability module (a test that
 * builds the lifecycle alone) they count nothing.
 */
@Injectable()
export class UploadMetrics {
  private readonly initiated?: Counter<'mode'>;
  private readonly completed?: Counter;
  private readonly completedBytes?: Counter;
  private readonly rejected?: Counter<'reason'>;
  private readonly aborted?: Counter<'reason'>;
  private readonly expired?: Counter;

  constructor(@Optional() metrics?: MetricsService) {
    if (!metrics) return;
    this.initiated = metrics.counter('uploads_initiated_total', 'Uploads started, by mode (single, multipart; instant: a copy of stored bytes)', ['mode']);
    this.completed = metrics.counter('uploads_completed_total', 'Uploads whose bytes storage confirmed');
    this.completedBytes = metrics.counter('uploads_completed_bytes_total', 'Bytes of the uploads storage confirmed');
    this.rejected = metrics.counter('uploads_rejected_total', 'Uploads refused, by reason (a problem code, or why storage or processing refused the bytes)', [
      'reason',
    ]);
    this.aborted = metrics.counter('uploads_aborted_total', 'Uploads cancelled by the client or lost by storage, by reason', ['reason']);
    this.expired = metrics.counter('uploads_expired_total', 'Uploads not completed before their deadline');
  }

  initiatedOne(mode: string): void {
    this.initiated?.inc({ mode });
  }

  completedOne(bytes: bigint | number): void {
    this.completed?.inc();
    this.completedBytes?.inc(Number(bytes));
  }

  rejectedOne(reason: string): void {
    this.rejected?.inc({ reason: reasonLabel(reason) });
  }

  abortedOne(reason: string): void {
    this.aborted?.inc({ reason: reasonLabel(reason) });
  }

  expiredOne(): void {
    this.expired?.inc();
  }
}

/**
 * A reason as a label value: its code, the part before the detail (`size_mismatch: storage holds
 * 5 bytes` is `size_mismatch`; `malware: Eicar-Signature` is `malware`), so the label's values stay
 * a small set whatever the details say.
 */
export function reasonLabel(reason: string): string {
  const code = reason.split(':')[0].trim().toLowerCase().replace(/\s+/g, '_');
  return /^[a-z][a-z0-9_]{0,47}$/.test(code) ? code : 'other';
}
