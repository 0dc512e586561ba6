import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AccessLevel, OwnerScope, Principal } from './principal';

export const ACCESS = Symbol('ACCESS');

/** Who may call the routes of a controller (or one route). Routes without it are public (health, docs). */
export const Access = (level: AccessLevel) => SetMetadata(ACCESS, level);

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
  scope?: OwnerScope;
}

/** The owner an `@Access('owner')` route acts for. */
export const Scope = createParamDecorator((_: unknown, ctx: ExecutionContext): OwnerScope => {
  const scope = ctx.switchToHttp().getRequest<AuthenticatedRequest>().scope;
  if (!scope) throw new Error('@Scope() used on a route without @Access(owner)');
  return scope;
});

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('@CurrentPrincipal() used on a public route');
  return principal;
});
