import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, ownerId as ownerIdSchema } from '@app/contracts';
import { ACCESS, AuthenticatedRequest } from './access';
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
    const principal = await this.credentials.authenticate(request.headers.authorization);
    if (!principal) throw new DomainError('unauthorized', 'Send a valid admin token, API key or user token as "Authorization: Bearer <token>".');
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
