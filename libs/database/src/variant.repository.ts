import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

export interface VariantRecord {
  name: string;
  storageKey: string;
  contentType: string;
  size: number;
  width?: number;
  height?: number;
  durationMs?: number;
}

@Injectable()
export class VariantRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One row per (file, name): a re-run replaces the variant, it never adds a second one. */
  async upsert(fileId: string, v: VariantRecord): Promise<void> {
    const data = {
      storageKey: v.storageKey,
      contentType: v.contentType,
      size: BigInt(v.size),
      width: v.width ?? null,
      height: v.height ?? null,
      durationMs: v.durationMs ?? null,
    };
    await this.prisma.variant.upsert({ where: { fileId_name: { fileId, name: v.name } }, create: { fileId, name: v.name, ...data }, update: data });
  }
}
