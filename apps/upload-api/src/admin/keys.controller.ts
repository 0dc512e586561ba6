import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { apiKeyCreated, apiKeyList, apiKeyView, rotateKeyBody } from '@app/contracts';
import { Access } from '@app/auth';
import { IdPipe, Problems } from '@app/http';
import { ApiKeysService } from './api-keys.service';

class RotateKeyDto extends createZodDto(rotateKeyBody) {}
class ApiKeyCreatedDto extends createZodDto(apiKeyCreated) {}
class ApiKeyListDto extends createZodDto(apiKeyList) {}
class ApiKeyViewDto extends createZodDto(apiKeyView) {}

@ApiTags('admin')
@ApiBearerAuth()
@Access('admin')
@Controller('v1/admin/tenants/:tenantId/keys')
export class KeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /** The tenant's API keys, newest first: prefixes and dates, never a secret. */
  @Get()
  @ApiOperation({ summary: "List a tenant's API keys" })
  @ZodResponse({ status: 200, type: ApiKeyListDto, description: 'Every key of the tenant, revoked and expired ones included' })
  list(@Param('tenantId', IdPipe) tenantId: string) {
    return this.keys.list(tenantId);
  }

  /** Rotation: a new key (shown once); every older key keeps working for the grace period, then stops. */
  @Post()
  @ApiOperation({
    summary: "Rotate a tenant's API key",
    description:
      'Issues a new key, returned once. Every older working key of the tenant keeps working until now + graceSeconds (default 86400, at most 30 days), checked on every request; a grace of 0 (or one shorter than API_KEY_CACHE_SECONDS, default 5) ends them within that cache window.',
  })
  @ZodResponse({ status: 201, type: ApiKeyCreatedDto, description: 'The new key (shown once) and when the older keys stop' })
  @Problems('invalid_state')
  rotate(@Param('tenantId', IdPipe) tenantId: string, @Body() body: RotateKeyDto) {
    return this.keys.rotate(tenantId, body.graceSeconds);
  }

  /** Revokes one key at once (every replica refuses it within API_KEY_CACHE_SECONDS). */
  @Delete(':keyId')
  @ApiOperation({
    summary: 'Revoke an API key',
    description:
      'The key is refused from now on; a replica that looked it up within the last API_KEY_CACHE_SECONDS (default 5) may still accept it until then.',
  })
  @ZodResponse({ status: 200, type: ApiKeyViewDto, description: 'The key, revoked' })
  revoke(@Param('tenantId', IdPipe) tenantId: string, @Param('keyId', IdPipe) keyId: string) {
    return this.keys.revoke(tenantId, keyId);
  }
}
