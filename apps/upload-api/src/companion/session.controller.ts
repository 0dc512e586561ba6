import { Controller, Delete, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@app/contracts';
import { Access, CurrentPrincipal, SESSION_COOKIE } from '@app/auth';
import type { Principal } from '@app/auth';
import { Problems } from '@app/http';

/**
 * The session cookie, for pages served from the API's own origin that use Uppy 6's
 * `companionEndpoint: <api>/companion` (its requests carry no header, but a same-origin fetch
 * sends cookies): HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it),
 * scoped to /companion, Secure over HTTPS. It holds the user token itself, so it lasts as long as
 * the token does (docs/adr/0022).
 */
@ApiTags('companion')
@ApiBearerAuth()
@Controller('companion/session')
export class CompanionSessionController {
  @Post()
  @HttpCode(204)
  @Access('owner')
  @ApiOperation({
    summary: 'Start a Companion session',
    description: 'Sets an HttpOnly, SameSite=Strict cookie holding the user token sent, for /companion calls from a page of this origin. User tokens only.',
  })
  @ApiResponse({ status: 204, description: 'Cookie set' })
  @Problems('forbidden')
  start(
    @CurrentPrincipal() principal: Principal,
    @Headers('authorization') authorization: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (principal.kind !== 'user') throw new DomainError('forbidden', 'A session holds a user token (POST /v1/tokens), never an API key.');
    const token = authorization.replace(/^Bearer\s+/i, '');
    void reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/companion', secure: request.protocol === 'https' });
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'End a Companion session', description: 'Clears the session cookie.' })
  @ApiResponse({ status: 204, description: 'Cookie cleared' })
  end(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/companion', secure: request.protocol === 'https' });
  }
}
