import { Injectable } from '@nestjs/common';
import type { Tx } from './change-event.repository';
import { PrismaService } from './prisma.service';

export interface StorageEventRecord {
  eventKey: string;
  eventName: string;
  fileId: string | null;
}

/** Dedup ledger of S3 events: SQS delivers at least once, so every event is acted on once. */
@Injectable()
export class StorageEventRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Records the event; false when it had been recorded before (a redelivery). Pass the
   * transaction of the state change the event causes, so both commit or neither does.
   */
  async recordOnce(event: StorageEventRecord, tx?: Tx): Promise<boolean> {
    // ON CONFLICT DO NOTHING: the primary key decides, not a read-then-write race.
    const inserted = await (tx ?? this.prisma).$executeRaw`
      INSERT INTO processed_storage_events (event_key, event_name, file_id)
      VALUES (${event.eventKey}, ${event.eventName}, ${event.fileId}::uuid)
      ON CONFLICT (event_key) DO NOTHING`;
    return inserted === 1;
  }

  async find(eventKey: string) {
    return this.prisma.processedStorageEvent.findUnique({ where: { eventKey } });
  }

  /** Retention: the dedup window only needs to outlive SQS's redelivery horizon. */
  async pruneOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.processedStorageEvent.deleteMany({ where: { processedAt: { lt: cutoff } } });
    return count;
  }
}
