import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import { ChangeEventRepository } from '@app/database';
import { OnJob } from '@app/queue';
import type { NotifierConfig } from './config';

@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly changes: ChangeEventRepository,
    @Inject(APP_CONFIG) private readonly config: NotifierConfig,
  ) {}

  /** The feed keeps CHANGES_RETENTION_DAYS of history; a device offline longer does a full resync. */
  @OnJob('changes.prune')
  async pruneChanges(): Promise<{ deleted: number }> {
    const cutoff = new Date(Date.now() - this.config.CHANGES_RETENTION_DAYS * 86_400_000);
    const deleted = await this.changes.pruneOlderThan(cutoff);
    if (deleted) this.logger.log({ deleted, cutoff }, 'pruned change events');
    return { deleted };
  }
}
