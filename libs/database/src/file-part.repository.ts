import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  checksumSha256?: string | null;
}

/** The part ledger (owned by chunk-tracker). Storage's ListParts is the truth; this remembers it. */
@Injectable()
export class FilePartRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A client's report: recorded as `reported`, never downgrading a part storage confirmed. */
  async recordReported(fileId: string, part: PartRecord): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO file_parts (file_id, part_number, size, etag, state, created_at, updated_at)
      VALUES (${fileId}::uuid, ${part.partNumber}, ${part.size}, ${part.etag}, 'reported', now(), now())
      ON CONFLICT (file_id, part_number) DO UPDATE
        SET size = EXCLUDED.size, etag = EXCLUDED.etag, updated_at = now()
        WHERE file_parts.state = 'reported'`;
  }

  /** Parts storage holds, as listed by ListParts before completion. */
  async recordStored(fileId: string, parts: PartRecord[]): Promise<void> {
    if (!parts.length) return;
    await this.prisma.$transaction(
      parts.map(
        (p) => this.prisma.$executeRaw`
          INSERT INTO file_parts (file_id, part_number, size, etag, checksum_sha256, state, created_at, updated_at)
          VALUES (${fileId}::uuid, ${p.partNumber}, ${p.size}, ${p.etag}, ${p.checksumSha256 ?? null}, 'stored', now(), now())
          ON CONFLICT (file_id, part_number) DO UPDATE
            SET size = EXCLUDED.size, etag = EXCLUDED.etag, checksum_sha256 = EXCLUDED.checksum_sha256, state = 'stored', updated_at = now()`,
      ),
    );
  }
}
