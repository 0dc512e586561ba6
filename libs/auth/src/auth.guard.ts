import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ownerId as ownerIdSchema } from '@app/contracts';
import { ACCESS, AuthenticatedRequest, BROWSER_CREDENTIAL, SESSION_COOKIE } from './access';
import { CredentialsService } from './credentials.service';
import type { AccessLevel, OwnerScope, Principal } from './principal';

const ALLOWED: Record<AccessLevel, Principal['kind'][]> = {
  admin: ['admin'],
  tenant: ['tenant'],
  owner: ['user', 'tenant'],
};

/**
 * Authenticates every route marked with @Access and resolves the owner scope. Missing or invalid
 * credentials answer 401; a valid credential of the wrong kind 403 (the admin token opens only
 * /v1/admin/*). Resources of other tenants or owners are filtered out by the services (404).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (!level) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const browserToken =
      request.headers.authorization === undefined && this.reflector.getAllAndOverride<boolean>(BROWSER_CREDENTIAL, [context.getHandler(), context.getClass()])
        ? browserCredential(request)
        : undefined;
    const principal = await this.credentials.authenticate(browserToken === undefined ? request.headers.authorization : `Bearer ${browserToken}`);
    if (!principal) throw new DomainError('unauthorized', 'Send a valid admin token, API key or user token as "Authorization: Bearer <token>".');
    if (browserToken !== undefined && principal.kind !== 'user') {
      // An API key or the admin token in a URL or cookie ends up in logs and histories: refused.
      throw new DomainError('forbidden', 'Only a user token may be sent in the path or a cookie; send API keys as "Authorization: Bearer <key>".');
    }
    if (!ALLOWED[level].includes(principal.kind)) {
      throw new DomainError(
        'forbidden',
        `This route needs ${level === 'admin' ? 'the admin token' : level === 'tenant' ? 'a tenant API key' : 'a user token or an API key with X-Owner-Id'}.`,
      );
    }
    request.principal = principal;
    if (level === 'owner') request.scope = ownerScopeOf(principal, request.headers['x-owner-id']);
    return true;
  }
}

/** The user token in the route's `:userToken` parameter, else in the session cookie. */
function browserCredential(request: AuthenticatedRequest): string | undefined {
  const fromPath = (request.params as Record<string, string> | undefined)?.userToken;
  return fromPath || request.cookies?.[SESSION_COOKIE] || undefined;
}

/**
 * The owner a user token or a tenant API key acts for: the token's owner, or the one an API key
 * names in X-Owner-Id (a 400 problem when it is missing or malformed).
 */
export function ownerScopeOf(principal: Principal, ownerHeader: string | string[] | undefined): OwnerScope {
  if (principal.kind === 'user') return { tenantId: principal.tenantId, ownerId: principal.ownerId };
  if (principal.kind !== 'tenant') throw new DomainError('forbidden', 'This route needs a user token or an API key with X-Owner-Id.');
  const parsed = ownerIdSchema.safeParse(Array.isArray(ownerHeader) ? ownerHeader[0] : ownerHeader);
  if (!parsed.success) {
    throw new DomainError('validation_failed', 'An API key acting for an owner must name it in the X-Owner-Id header.', {
      errors: [{ field: 'X-Owner-Id', message: ownerHeader === undefined ? 'is required' : (parsed.error.issues[0]?.message ?? 'is invalid') }],
    });
  }
  return { tenantId: principal.tenantId, ownerId: parsed.data };
}
