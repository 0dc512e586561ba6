import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { StorageEventRepository } from '@app/database';
import { OnJob } from '@app/queue';
import type { TrackerConfig } from './config';

@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger(HousekeepingService.name);

  constructor(
    private readonly ledger: StorageEventRepository,
    @Inject(APP_CONFIG) private readonly config: TrackerConfig,
  ) {}

  /** The dedup ledger only has to outlive SQS redelivery (retention is days, not forever). */
  @OnJob('storage-events.prune')
  async pruneStorageEvents(): Promise<{ deleted: number }> {
    const cutoff = new Date(Date.now() - this.config.PROCESSED_EVENTS_RETENTION_HOURS * 3600_000);
    const deleted = await this.ledger.pruneOlderThan(cutoff);
    if (deleted) this.logger.log({ deleted, cutoff }, 'pruned processed storage events');
    return { deleted };
  }
}
