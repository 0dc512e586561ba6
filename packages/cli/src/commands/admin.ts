import { sleep } from '@app/sdk';
import type { TenantCreated } from '@app/contracts';
import { Tenant, TenantBody, TenantDetail } from '../api';
import { Context } from '../context';
import { ExitCode, UsageError } from '../exit-codes';
import { formatBytes, table } from '../output';

export interface TenantFlags {
  name?: string;
  quota?: string;
  maxFileSize?: string;
  allowedTypes?: string;
  dedupScope?: string;
  svg?: boolean;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i;
const POWER: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4 };

/** `10GiB`, `500M`, `1t`, `12345`: binary units (the platform counts bytes in powers of 1024). */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new UsageError(`not a size: ${text} (use bytes or a unit: 500MiB, 10GiB, 1TiB)`);
  const bytes = Number(m[1]) * 1024 ** POWER[(m[2] ?? 'b')[0].toLowerCase()];
  if (!Number.isSafeInteger(Math.round(bytes))) throw new UsageError(`size too large: ${text}`);
  return Math.round(bytes);
}

export function tenantBody(flags: TenantFlags): TenantBody {
  const body: TenantBody = {};
  if (flags.name !== undefined) body.name = flags.name;
  if (flags.quota !== undefined) body.quotaBytes = parseSize(flags.quota);
  if (flags.maxFileSize !== undefined) body.maxFileBytes = parseSize(flags.maxFileSize);
  if (flags.allowedTypes !== undefined)
    body.allowedTypes = flags.allowedTypes
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  if (flags.dedupScope !== undefined) {
    if (flags.dedupScope !== 'owner' && flags.dedupScope !== 'tenant') throw new UsageError('--dedup-scope is owner or tenant');
    body.dedupScope = flags.dedupScope;
  }
  if (flags.svg !== undefined) body.allowSvgRendering = flags.svg;
  return body;
}

/** A tenant as created (with its key), listed or read (with its usage). */
function describeTenant(t: TenantCreated | Tenant | TenantDetail): string {
  const rows = [
    ['id', t.id],
    ['name', t.name],
    ['quota', formatBytes(t.quotaBytes)],
    ['max file', formatBytes(t.maxFileBytes)],
    ['types', t.allowedTypes.length ? t.allowedTypes.join(', ') : 'any'],
    ...Object.entries(t)
      .filter(([k, v]) => !['id', 'name', 'quotaBytes', 'maxFileBytes', 'allowedTypes', 'apiKey', 'usage'].includes(k) && v !== null && v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  ];
  if ('usage' in t) {
    rows.push(['used', `${formatBytes(t.usage.usedBytes)} in ${t.usage.files} file(s), ${formatBytes(t.usage.reservedBytes)} reserved`]);
    rows.push(['available', formatBytes(t.usage.availableBytes)]);
  }
  return table(rows);
}

export async function tenantsCreate(ctx: Context, name: string, flags: TenantFlags): Promise<number> {
  const created = await ctx.adminApi().createTenant({ ...tenantBody(flags), name });
  ctx.out.result(created, () => `${describeTenant(created)}\n\nAPI key (shown once, store it now):\n${created.apiKey}`);
  return ExitCode.ok;
}

export async function tenantsList(ctx: Context): Promise<number> {
  // Every page: an operator's list is short; the keyset cursor keeps it right while tenants come and go.
  const api = ctx.adminApi();
  const tenants: Tenant[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.listTenants({ cursor, limit: 100 });
    tenants.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (ctx.out.json) for (const t of tenants) ctx.out.result(t, '');
  else
    ctx.out.result(null, () =>
      tenants.length
        ? table([['ID', 'QUOTA', 'MAX FILE', 'NAME'], ...tenants.map((t) => [t.id, formatBytes(t.quotaBytes), formatBytes(t.maxFileBytes), t.name])])
        : 'No tenants.',
    );
  return ExitCode.ok;
}

export async function tenantsGet(ctx: Context, id: string): Promise<number> {
  const tenant = await ctx.adminApi().getTenant(id);
  ctx.out.result(tenant, () => describeTenant(tenant));
  return ExitCode.ok;
}

export async function tenantsUpdate(ctx: Context, id: string, flags: TenantFlags): Promise<number> {
  const body = tenantBody(flags);
  if (Object.keys(body).length === 0)
    throw new UsageError('nothing to change: give --name, --quota, --max-file-size, --allowed-types, --dedup-scope or --[no-]svg');
  const tenant = await ctx.adminApi().updateTenant(id, body);
  ctx.out.result(tenant, () => describeTenant(tenant));
  return ExitCode.ok;
}

/**
 * `upl tenants rm <id> [--force]`: a tenant holding files is refused (409) unless --force; with
 * it, a deletion the API could not finish in one request (202, files remain) is sent again until done.
 */
export async function tenantsRemove(ctx: Context, id: string, flags: { force: boolean }): Promise<number> {
  const api = ctx.adminApi();
  let outcome = await api.deleteTenant(id, flags.force);
  while (outcome.status === 'deleting') {
    ctx.out.info(`upl: deleting tenant ${id}: ${outcome.remainingFiles} file(s) to remove`);
    await sleep(1000);
    outcome = await api.deleteTenant(id, flags.force);
  }
  ctx.out.result(outcome, `deleted tenant ${id}`);
  return ExitCode.ok;
}

export async function keysList(ctx: Context, tenantId: string): Promise<number> {
  const { items: keys } = await ctx.adminApi().listKeys(tenantId);
  const state = (k: (typeof keys)[number]) => (k.revokedAt ? 'revoked' : k.active === false ? 'expired' : 'active');
  if (ctx.out.json) for (const k of keys) ctx.out.result(k, '');
  else
    ctx.out.result(null, () =>
      keys.length
        ? table([
            ['ID', 'PREFIX', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED', 'NAME'],
            ...keys.map((k) => [k.id, k.prefix, state(k), k.createdAt, k.expiresAt ?? 'never', k.lastUsedAt ?? '-', k.name ?? '']),
          ])
        : 'No keys.',
    );
  return ExitCode.ok;
}

export async function keysRotate(ctx: Context, tenantId: string, flags: { grace?: string }): Promise<number> {
  let grace: number | undefined;
  if (flags.grace !== undefined) {
    grace = Number(flags.grace);
    if (!Number.isInteger(grace) || grace < 0) throw new UsageError('--grace is a whole number of seconds');
  }
  const key = await ctx.adminApi().rotateKey(tenantId, grace);
  ctx.out.result(
    key,
    () => `new key ${key.id} (${key.prefix}); the older keys stop at ${key.previousKeysExpireAt}\n\nAPI key (shown once, store it now):\n${key.apiKey}`,
  );
  return ExitCode.ok;
}

export async function keysRevoke(ctx: Context, tenantId: string, keyId: string): Promise<number> {
  const key = await ctx.adminApi().revokeKey(tenantId, keyId);
  ctx.out.result(key ?? { id: keyId }, `revoked key ${keyId}`);
  return ExitCode.ok;
}
