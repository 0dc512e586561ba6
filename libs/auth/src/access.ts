import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
// request.cookies: the upload-api registers @fastify/cookie (the session cookie below).
import type {} from '@fastify/cookie';
import type { AccessLevel, OwnerScope, Principal } from './principal';

export const ACCESS = Symbol('ACCESS');

/** Who may call the routes of a controller (or one route). Routes without it are public (health, docs). */
export const Access = (level: AccessLevel) => SetMetadata(ACCESS, level);

export const BROWSER_CREDENTIAL = Symbol('BROWSER_CREDENTIAL');

/** The cookie `POST /companion/session` sets: a user token, for same-origin pages (docs/adr/0022). */
export const SESSION_COOKIE = 'upl_session';

/**
 * Routes that also take a user token where a browser library cannot send a header (Uppy 6's
 * `companionEndpoint`): the route's `:userToken` path parameter, or the session cookie. Only a
 * user token, never an API key or the admin token, is accepted from either (docs/adr/0022).
 */
export const BrowserCredential = () => SetMetadata(BROWSER_CREDENTIAL, true);

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
