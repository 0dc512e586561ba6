import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { UsageView, usageView } from '@app/contracts';
import { Access, CurrentPrincipal, Scope } from '@app/auth';
import type { OwnerScope, Principal } from '@app/auth';
import { FileRepository, TenantRepository } from '@app/database';
import { QUOTA_HELD } from '@app/lifecycle';
import type { FileStatusName } from '@app/contracts';

class UsageViewDto extends createZodDto(usageView) {}

/** Statuses whose size counts as reserved or used quota (the state machine's rule). */
const HELD = {
  reserved: (Object.keys(QUOTA_HELD) as FileStatusName[]).filter((s) => QUOTA_HELD[s] === 'reserved'),
  used: (Object.keys(QUOTA_HELD) as FileStatusName[]).filter((s) => QUOTA_HELD[s] === 'used'),
};

@ApiTags('usage')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Owner-Id', required: false, description: 'With a tenant API key: the owner whose usage to read' })
@Access('owner')
@Controller('v1/usage')
export class UsageController {
  constructor(
    private readonly files: FileRepository,
    private readonly tenants: TenantRepository,
  ) {}

  /** What the owner holds against the quota; with a tenant API key, the tenant's totals too. */
  @Get()
  @ApiOperation({
    summary: 'Read quota usage',
    description: "Bytes the owner holds (used and reserved) and its file count; with a tenant API key, the tenant's totals against its quota too.",
  })
  @ZodResponse({ status: 200, type: UsageViewDto, description: 'Usage' })
  async usage(@Scope() scope: OwnerScope, @CurrentPrincipal() principal: Principal): Promise<UsageView> {
    const owner = numbers(await this.files.usage(scope, HELD));
    if (principal.kind !== 'tenant') return { owner: { ownerId: scope.ownerId, ...owner } };
    const [tenant, totals] = await Promise.all([this.tenants.find(scope.tenantId), this.files.usage({ tenantId: scope.tenantId }, HELD)]);
    return {
      owner: { ownerId: scope.ownerId, ...owner },
      tenant: { quotaBytes: Number(tenant?.quotaBytes ?? 0n), ...numbers(totals) },
    };
  }
}

const numbers = (u: { usedBytes: bigint; reservedBytes: bigint; files: bigint }) => ({
  usedBytes: Number(u.usedBytes),
  reservedBytes: Number(u.reservedBytes),
  files: Number(u.files),
});
