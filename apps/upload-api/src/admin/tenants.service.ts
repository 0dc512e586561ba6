import { Injectable, Logger } from '@nestjs/common';
import { CreateTenantBody, MAX_OBJECT_BYTES, TenantCreated } from '@app/contracts';
import { TenantRepository } from '@app/database';
import { CredentialsService } from '@app/auth';

const DEFAULT_QUOTA_BYTES = 1024 ** 4; // 1 TiB

@Injectable()
export class TenantsService {
  private readonly logger = new Logger(TenantsService.name);

  constructor(private readonly tenants: TenantRepository) {}

  async create(body: CreateTenantBody): Promise<TenantCreated> {
    const apiKey = CredentialsService.newApiKey();
    const tenant = await this.tenants.create({
      name: body.name,
      quotaBytes: BigInt(body.quotaBytes ?? DEFAULT_QUOTA_BYTES),
      maxFileBytes: BigInt(body.maxFileBytes ?? MAX_OBJECT_BYTES),
      allowedTypes: [...new Set((body.allowedTypes ?? []).map((t) => t.toLowerCase()))],
      dedupScope: body.dedupScope ?? 'owner',
      allowSvgRendering: body.allowSvgRendering ?? false,
      apiKey: { hash: apiKey.hash, prefix: apiKey.prefix },
    });
    this.logger.log({ tenantId: tenant.id, keyPrefix: apiKey.prefix }, 'tenant created');
    return {
      id: tenant.id,
      name: tenant.name,
      apiKey: apiKey.key,
      quotaBytes: Number(tenant.quotaBytes),
      maxFileBytes: Number(tenant.maxFileBytes),
      allowedTypes: tenant.allowedTypes,
      dedupScope: tenant.dedupScope,
      allowSvgRendering: tenant.allowSvgRendering ?? false,
    };
  }
}
