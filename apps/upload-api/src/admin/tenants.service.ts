import { Injectable, Logger } from '@nestjs/common';
import {
  CreateTenantBody,
  DomainError,
  FileStatusName,
  ListTenantsQuery,
  MAX_OBJECT_BYTES,
  TenantCreated,
  TenantDetail,
  TenantList,
  TenantView,
  UpdateTenantBody,
} from '@app/contracts';
import { FileRepository, TenantAdminRecord, TenantPatch, TenantRepository } from '@app/database';
import { CredentialsService } from '@app/auth';
import { decodePageCursor, encodePageCursor } from '@app/http';
import { QUOTA_HELD } from '@app/lifecycle';

const DEFAULT_QUOTA_BYTES = 1024 ** 4; // 1 TiB
const DEFAULT_PAGE = 50;

/** Statuses whose size counts as reserved or used quota (the state machine's rule), as GET /v1/usage counts them. */
export const QUOTA_HOLDING = {
  reserved: (Object.keys(QUOTA_HELD) as FileStatusName[]).filter((s) => QUOTA_HELD[s] === 'reserved'),
  used: (Object.keys(QUOTA_HELD) as FileStatusName[]).filter((s) => QUOTA_HELD[s] === 'used'),
};

/** Tenants (internal teams) for the platform's administrators: create, read, change. Deletion: TenantDeletionService. */
@Injectable()
export class TenantsService {
  private readonly logger = new Logger(TenantsService.name);

  constructor(
    private readonly tenants: TenantRepository,
    private readonly files: FileRepository,
  ) {}

  async create(body: CreateTenantBody): Promise<TenantCreated> {
    const apiKey = CredentialsService.newApiKey();
    const tenant = await this.tenants.create({
      name: body.name,
      quotaBytes: BigInt(body.quotaBytes ?? DEFAULT_QUOTA_BYTES),
      maxFileBytes: BigInt(body.maxFileBytes ?? MAX_OBJECT_BYTES),
      allowedTypes: normaliseTypes(body.allowedTypes ?? []),
      dedupScope: body.dedupScope ?? 'owner',
      allowSvgRendering: body.allowSvgRendering ?? false,
      scanUploads: body.scanUploads ?? true,
      scanTooLarge: body.scanTooLarge ?? 'skip',
      apiKey: { hash: apiKey.hash, prefix: apiKey.prefix },
    });
    this.logger.log({ tenantId: tenant.id, keyPrefix: apiKey.prefix }, 'tenant created');
    return {
      id: tenant.id,
      name: tenant.name,
      apiKey: apiKey.key,
      quotaBytes: Number(tenant.quotaBytes),
      maxFileBytes: Number(tenant.maxFileBytes),
      allowedTypes: tenant.allowedTypes,
      dedupScope: tenant.dedupScope,
      allowSvgRendering: tenant.allowSvgRendering ?? false,
      scanUploads: tenant.scanUploads,
      scanTooLarge: tenant.scanTooLarge,
    };
  }

  /** Tenants newest first, those being deleted included (with `deletedAt`). */
  async list(query: ListTenantsQuery): Promise<TenantList> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await this.tenants.list(limit + 1, query.cursor ? decodePageCursor(query.cursor) : undefined);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(tenantView), nextCursor: rows.length > limit && last ? encodePageCursor(last) : null };
  }

  async get(id: string): Promise<TenantDetail> {
    const tenant = await this.tenants.findForAdmin(id);
    if (!tenant) throw tenantNotFound();
    return this.detail(tenant);
  }

  /**
   * Changes the given settings; they apply to what comes next (an upload initiated, a file
   * verified), never to what is stored. A new quota is dealt out to the quota stripes at once. A
   * quota below what the tenant holds (used and reserved bytes) is a 409 conflict naming
   * `heldBytes`, and nothing changes: a PATCH never removes files, and the quota books must stay
   * within the quota (docs/adr/0017-quota-stripes.md). A quota of exactly `heldBytes` stops new
   * uploads at once.
   */
  async update(id: string, body: UpdateTenantBody): Promise<TenantDetail> {
    const patch: TenantPatch = {
      name: body.name,
      quotaBytes: body.quotaBytes === undefined ? undefined : BigInt(body.quotaBytes),
      maxFileBytes: body.maxFileBytes === undefined ? undefined : BigInt(body.maxFileBytes),
      allowedTypes: body.allowedTypes === undefined ? undefined : normaliseTypes(body.allowedTypes),
      dedupScope: body.dedupScope,
      allowSvgRendering: body.allowSvgRendering,
      scanUploads: body.scanUploads,
      scanTooLarge: body.scanTooLarge,
    };
    const updated = await this.tenants.update(id, patch);
    if ('missing' in updated) throw await this.notChangeable(id);
    if ('quotaBelowHeld' in updated) {
      throw new DomainError(
        'conflict',
        `The tenant holds ${updated.quotaBelowHeld} bytes (stored and reserved), more than a quota of ${body.quotaBytes}. Delete files first, or set a quota of at least heldBytes (which stops new uploads).`,
        { heldBytes: Number(updated.quotaBelowHeld), errors: [{ field: 'quotaBytes', message: `must be at least ${updated.quotaBelowHeld}` }] },
      );
    }
    const changed = Object.keys(body).filter((key) => body[key as keyof UpdateTenantBody] !== undefined);
    this.logger.log({ tenantId: id, changed }, 'tenant changed');
    return this.detail(updated.tenant);
  }

  /** 404 when there is no such tenant, 409 when its deletion began (a tenant being deleted changes no more). */
  private async notChangeable(id: string): Promise<DomainError> {
    const tenant = await this.tenants.findForAdmin(id);
    if (!tenant) return tenantNotFound();
    return new DomainError('invalid_state', 'This tenant is being deleted; it can no longer be changed.', { deletedAt: tenant.deletedAt?.toISOString() });
  }

  private async detail(tenant: TenantAdminRecord): Promise<TenantDetail> {
    const usage = await this.files.usage({ tenantId: tenant.id }, QUOTA_HOLDING);
    const held = usage.usedBytes + usage.reservedBytes;
    const available = tenant.quotaBytes - held;
    return {
      ...tenantView(tenant),
      usage: {
        usedBytes: Number(usage.usedBytes),
        reservedBytes: Number(usage.reservedBytes),
        files: Number(usage.files),
        availableBytes: Number(available > 0n ? available : 0n),
      },
    };
  }
}

export function tenantNotFound(): DomainError {
  return new DomainError('not_found', 'No such tenant.');
}

export function tenantView(tenant: TenantAdminRecord): TenantView {
  return {
    id: tenant.id,
    name: tenant.name,
    quotaBytes: Number(tenant.quotaBytes),
    maxFileBytes: Number(tenant.maxFileBytes),
    allowedTypes: tenant.allowedTypes,
    dedupScope: tenant.dedupScope,
    allowSvgRendering: tenant.allowSvgRendering,
    scanUploads: tenant.scanUploads,
    scanTooLarge: tenant.scanTooLarge,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
    deletedAt: tenant.deletedAt?.toISOString() ?? null,
  };
}

/** MIME patterns compare in lower case; each once. */
function normaliseTypes(types: string[]): string[] {
  return [...new Set(types.map((t) => t.toLowerCase()))];
}
