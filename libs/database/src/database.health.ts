import { Injectable } from '@nestjs/common';
import type { DependencyCheck } from '@app/observability';
import { PrismaService } from './prisma.service';

@Injectable()
export class DatabaseHealth implements DependencyCheck {
  readonly name = 'database';

  constructor(private readonly prisma: PrismaService) {}

  async check(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}
