import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import {
  createTenantBody,
  deleteTenantQuery,
  listTenantsQuery,
  tenantCreated,
  tenantDeletion,
  tenantDetail,
  tenantList,
  updateTenantBody,
} from '@app/contracts';
import { Access } from '@app/auth';
import { IdPipe, Problems } from '@app/http';
import { TenantDeletionService } from './tenant-deletion.service';
import { TenantsService } from './tenants.service';

class CreateTenantDto extends createZodDto(createTenantBody) {}
class TenantCreatedDto extends createZodDto(tenantCreated) {}
class ListTenantsQueryDto extends createZodDto(listTenantsQuery) {}
class TenantListDto extends createZodDto(tenantList) {}
class TenantDetailDto extends createZodDto(tenantDetail) {}
class UpdateTenantDto extends createZodDto(updateTenantBody) {}
class DeleteTenantQueryDto extends createZodDto(deleteTenantQuery) {}
class TenantDeletionDto extends createZodDto(tenantDeletion) {}

@ApiTags('admin')
@ApiBearerAuth()
@Access('admin')
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly deletion: TenantDeletionService,
  ) {}

  /** Creates a tenant (an internal team) and its first API key, returned once. */
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant' })
  @ZodResponse({ status: 201, type: TenantCreatedDto, description: 'The tenant and its API key (shown once)' })
  create(@Body() body: CreateTenantDto) {
    return this.tenants.create(body);
  }

  /** Every tenant, newest first, in pages (tenants being deleted included, with deletedAt). */
  @Get()
  @ApiOperation({ summary: 'List tenants' })
  @ZodResponse({ status: 200, type: TenantListDto, description: 'A page of tenants and the cursor of the next one (null on the last page)' })
  list(@Query() query: ListTenantsQueryDto) {
    return this.tenants.list(query);
  }

  /** One tenant: its settings and what it holds against its quota. */
  @Get(':id')
  @ApiOperation({ summary: 'Read a tenant', description: 'Its settings, and its used and reserved bytes and files as GET /v1/usage counts them.' })
  @ZodResponse({ status: 200, type: TenantDetailDto, description: 'The tenant with its usage' })
  get(@Param('id', IdPipe) id: string) {
    return this.tenants.get(id);
  }

  /** Changes a tenant's settings (at least one); a quota below what it holds is a 409 conflict, changing nothing. */
  @Patch(':id')
  @ApiOperation({
    summary: 'Change a tenant',
    description:
      'Settings apply to what comes next (initiations, verification), never to stored files. A new quotaBytes binds at once; below what the tenant holds (stored and reserved bytes) it answers 409 conflict with heldBytes and changes nothing (a quota of exactly heldBytes stops new uploads). A tenant being deleted answers 409 invalid_state.',
  })
  @ZodResponse({ status: 200, type: TenantDetailDto, description: 'The tenant as changed, with its usage' })
  @Problems('conflict', 'invalid_state')
  update(@Param('id', IdPipe) id: string, @Body() body: UpdateTenantDto) {
    return this.tenants.update(id, body);
  }

  /** Deletes a tenant: refused while it holds files unless force=true; its credentials stop at once, its files are removed, then the tenant. */
  @Delete(':id')
  @ApiOperation({
    summary: 'Delete a tenant',
    description:
      'Without force=true a tenant that holds files answers 409 conflict. Otherwise its API keys and user tokens are refused from now on (within API_KEY_CACHE_SECONDS), its uploads are aborted and its files deleted as their owners would (quota freed, objects removed, owners and webhooks told), then the tenant and its keys, webhooks and change feed are removed. 202 when files remain after the request’s time budget: send the same DELETE again to continue.',
  })
  @ZodResponse({ status: 200, type: TenantDeletionDto, description: 'Deleted, with every file' })
  @ApiResponse({ status: 202, type: TenantDeletionDto.Output, description: 'Being deleted: files remain; send the same DELETE to continue' })
  @Problems('conflict')
  async delete(@Param('id', IdPipe) id: string, @Query() query: DeleteTenantQueryDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.deletion.delete(id, query.force === 'true');
    if (outcome.status === 'deleting') void reply.status(202);
    return outcome;
  }
}
