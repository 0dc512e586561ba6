import { Injectable } from '@nestjs/common';

/**
 * Process lifecycle as readiness sees it. Once SIGTERM arrives the service reports not ready
 * (so Kubernetes stops routing to it) while in-flight work drains.
 */
@Injectable()
export class Lifecycle {
  private drainingSince: Date | null = null;

  startDraining(): void {
    this.drainingSince ??= new Date();
  }

  get draining(): boolean {
    return this.drainingSince !== null;
  }
}
