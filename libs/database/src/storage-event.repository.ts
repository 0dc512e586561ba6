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
   * Records the events in one statement and answers the keys recorded now; a key missing from the
   * answer had been recorded before (a redelivery). Pass the transaction of the state changes the
   * events cause, so both commit or neither does. ON CONFLICT DO NOTHING: the primary key decides,
   * not a read-then-write race, also between two copies of an event in the same batch.
   */
  async recordNew(events: readonly StorageEventRecord[], tx?: Tx): Promise<Set<string>> {
    if (!events.length) return new Set();
    const rows = await (tx ?? this.prisma).$queryRaw<Array<{ event_key: string }>>`
      INSERT INTO processed_storage_events (event_key, event_name, file_id)
      SELECT * FROM unnest(${events.map((e) => e.eventKey)}::text[], ${events.map((e) => e.eventName)}::text[], ${events.map((e) => e.fileId)}::uuid[])
      ON CONFLICT (event_key) DO NOTHING
      RETURNING event_key`;
    return new Set(rows.map((row) => row.event_key));
  }

  /** Retention: the dedup window only needs to outlive SQS's redelivery horizon. */
  async pruneOlderThan(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.processedStorageEvent.deleteMany({ where: { processedAt: { lt: cutoff } } });
    return count;
  }
}
