import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  checksumSha256?: string | null;
}

/**
 * The part ledger: clients' reports (through chunk-tracker) and the listings checked at completion.
 * Storage's ListParts is the truth; this remembers it, so views of an upload need not ask storage.
 */
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

  /**
   * Parts storage holds, as listed by ListParts before completion: they replace the ledger's rows,
   * so a client's report of a part storage never held (any number up to the upload's maximum)
   * does not outlive the listing. One statement, however many parts.
   */
  async recordStored(fileId: string, parts: PartRecord[]): Promise<void> {
    if (!parts.length) return;
    const numbers = parts.map((p) => p.partNumber);
    await this.prisma.$executeRaw`
      WITH unlisted AS (
        DELETE FROM file_parts WHERE file_id = ${fileId}::uuid AND part_number <> ALL(${numbers}::int[])
      )
      INSERT INTO file_parts (file_id, part_number, size, etag, checksum_sha256, state, created_at, updated_at)
      SELECT ${fileId}::uuid, p.part_number, p.size, p.etag, p.checksum_sha256, 'stored', now(), now()
      FROM unnest(${numbers}::int[], ${parts.map((p) => p.size)}::bigint[], ${parts.map((p) => p.etag)}::text[],
                  ${parts.map((p) => p.checksumSha256 ?? null)}::text[]) AS p(part_number, size, etag, checksum_sha256)
      ON CONFLICT (file_id, part_number) DO UPDATE
        SET size = EXCLUDED.size, etag = EXCLUDED.etag, checksum_sha256 = EXCLUDED.checksum_sha256, state = 'stored', updated_at = now()`;
  }
}
