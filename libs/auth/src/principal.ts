/** Who is calling (api-v1.md, Conventions). */
export type Principal =
  | { kind: 'admin' }
  /** A tenant API key: acts for any owner of its tenant (named in X-Owner-Id). */
  | { kind: 'tenant'; tenantId: string; apiKeyId: string }
  /** A user token: acts for exactly one owner. */
  | { kind: 'user'; tenantId: string; ownerId: string };

/** The owner an owner-scoped request acts for. Every query of owner data is filtered by both ids. */
export interface OwnerScope {
  tenantId: string;
  ownerId: string;
}

/** What a route accepts: the admin token, a tenant API key, or an owner (user token or API key + X-Owner-Id). */
export type AccessLevel = 'admin' | 'tenant' | 'owner';
