import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { createTokenBody, DomainError, ownerId as ownerIdSchema, tokenCreated } from '@app/contracts';
import { Access, CurrentPrincipal } from '@app/auth';
import { CredentialsService } from '@app/auth';
import type { Principal } from '@app/auth';

class CreateTokenDto extends createZodDto(createTokenBody) {}
class TokenCreatedDto extends createZodDto(tokenCreated) {}

const DEFAULT_TTL_SECONDS = 3600;

@ApiTags('tokens')
@ApiBearerAuth()
@Access('tenant')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly credentials: CredentialsService) {}

  /** Mints a user token for one owner of the calling tenant (named in the body or X-Owner-Id). */
  @Post()
  @HttpCode(201)
  @ApiHeader({ name: 'X-Owner-Id', required: false, description: 'The owner, if not in the body' })
  @ApiOperation({
    summary: 'Mint a user token',
    description: "A short-lived token for one owner of the calling tenant (tenant API key only): what a team's backend hands to its app.",
  })
  @ZodResponse({ status: 201, type: TokenCreatedDto, description: 'The token and when it expires' })
  create(@Body() body: CreateTokenDto, @Headers('x-owner-id') header: string | undefined, @CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'tenant') throw new DomainError('forbidden', 'Only a tenant API key mints user tokens.');
    const fromHeader = header === undefined ? undefined : ownerIdSchema.safeParse(header);
    if (fromHeader && !fromHeader.success) {
      throw new DomainError('validation_failed', 'X-Owner-Id is not a valid owner id.', {
        errors: [{ field: 'X-Owner-Id', message: fromHeader.error.issues[0]?.message ?? 'is invalid' }],
      });
    }
    if (fromHeader?.data && body.ownerId && fromHeader.data !== body.ownerId) {
      throw new DomainError('validation_failed', 'X-Owner-Id and ownerId name different owners.', {
        errors: [{ field: 'ownerId', message: 'differs from X-Owner-Id' }],
      });
    }
    const ownerId = body.ownerId ?? fromHeader?.data;
    if (!ownerId)
      throw new DomainError('validation_failed', 'Name the owner in ownerId or X-Owner-Id.', { errors: [{ field: 'ownerId', message: 'is required' }] });
    const { token, expiresAt } = this.credentials.issueUserToken(principal.tenantId, ownerId, body.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    return { token, ownerId, expiresAt: expiresAt.toISOString() };
  }
}
