import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { createTenantBody, tenantCreated } from '@app/contracts';
import { Access } from '@app/auth';
import { TenantsService } from './tenants.service';

class CreateTenantDto extends createZodDto(createTenantBody) {}
class TenantCreatedDto extends createZodDto(tenantCreated) {}

@ApiTags('admin')
@ApiBearerAuth()
@Access('admin')
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  /** Creates a tenant (an internal team) and its first API key, returned once. */
  @Post()
  @HttpCode(201)
  @ZodResponse({ status: 201, type: TenantCreatedDto, description: 'The tenant and its API key (shown once)' })
  create(@Body() body: CreateTenantDto) {
    return this.tenants.create(body);
  }
}
