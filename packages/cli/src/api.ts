import type {
  ApiKeyView,
  FileView as ContractFileView,
  TenantCreated,
  TenantDeletion,
  TenantDetail,
  TenantList,
  TenantView,
  UpdateTenantBody,
} from '@app/contracts';
import { backoffDelay, DEFAULT_RETRY, retryableStatus, sleep, UploadApiError } from '@app/sdk';

// The wire types are the contract's own (type-only: the bundle carries no zod).
export type FileView = ContractFileView;
export type FileListQuery = Partial<Record<'cursor' | 'status' | 'contentType' | 'filename' | 'createdAfter' | 'createdBefore', string>> & { limit?: number };
export type Tenant = TenantView;
export type TenantBody = UpdateTenantBody;
export type { ApiKeyView, TenantDetail, TenantDeletion };

/** Methods safe to send again after a lost answer. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * The routes of api-v1.md the SDK does not cover (files, downloads, tokens, tenant
 * administration), with the SDK's error type: a failed call throws UploadApiError carrying the
 * problem document's `code` and `detail`. Idempotent calls are retried on network failures and
 * 408/429/5xx like the SDK's own.
 */
export class PlatformApi {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: { baseUrl: string; token: string; ownerId?: string; fetch?: typeof fetch }) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  listFiles(query: FileListQuery) {
    return this.call<{ items: FileView[]; nextCursor: string | null }>('GET', '/v1/files', { query: { ...query } });
  }

  getFile(id: string) {
    return this.call<FileView>('GET', `/v1/files/${encodeURIComponent(id)}`);
  }

  deleteFile(id: string) {
    return this.call<void>('DELETE', `/v1/files/${encodeURIComponent(id)}`);
  }

  abortUpload(id: string) {
    return this.call<void>('DELETE', `/v1/uploads/${encodeURIComponent(id)}`);
  }

  /** Where the file's bytes are: the presigned GET the API redirects to. */
  async contentUrl(id: string, variant?: string): Promise<string> {
    const response = await this.send('GET', `/v1/files/${encodeURIComponent(id)}/content`, {
      query: { variant, disposition: 'attachment' },
      redirect: 'manual',
    });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) return new URL(location, this.options.baseUrl).toString();
    throw new UploadApiError(response.status, 'http_error', `GET /v1/files/${id}/content answered ${response.status} without a redirect`);
  }

  /** A user token for the owner an API key acts for (the change feed's WebSocket takes one). */
  mintUserToken(ownerId: string, ttlSeconds = 3600) {
    return this.call<{ token: string; ownerId: string; expiresAt: string }>('POST', '/v1/tokens', { body: { ownerId, ttlSeconds } });
  }

  createTenant(body: TenantBody) {
    return this.call<TenantCreated>('POST', '/v1/admin/tenants', { body });
  }

  listTenants(query: { cursor?: string; limit?: number } = {}) {
    return this.call<TenantList>('GET', '/v1/admin/tenants', { query: { ...query } });
  }

  getTenant(id: string) {
    return this.call<TenantDetail>('GET', `/v1/admin/tenants/${encodeURIComponent(id)}`);
  }

  updateTenant(id: string, body: TenantBody) {
    return this.call<TenantDetail>('PATCH', `/v1/admin/tenants/${encodeURIComponent(id)}`, { body });
  }

  deleteTenant(id: string, force: boolean) {
    return this.call<TenantDeletion>('DELETE', `/v1/admin/tenants/${encodeURIComponent(id)}`, { query: { force: force ? 'true' : undefined } });
  }

  listKeys(tenantId: string) {
    return this.call<{ items: ApiKeyView[] }>('GET', `/v1/admin/tenants/${encodeURIComponent(tenantId)}/keys`);
  }

  rotateKey(tenantId: string, graceSeconds?: number) {
    return this.call<ApiKeyView & { apiKey: string; previousKeysExpireAt: string }>('POST', `/v1/admin/tenants/${encodeURIComponent(tenantId)}/keys`, {
      body: graceSeconds === undefined ? {} : { graceSeconds },
    });
  }

  revokeKey(tenantId: string, keyId: string) {
    return this.call<ApiKeyView>('DELETE', `/v1/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}`);
  }

  private async call<T>(method: string, path: string, init: { query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
    const response = await this.send(method, path, init);
    if (response.ok) {
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    throw await problemError(method, path, response);
  }

  private async send(
    method: string,
    path: string,
    init: { query?: Record<string, string | number | undefined>; body?: unknown; redirect?: RequestRedirect } = {},
  ): Promise<Response> {
    const url = new URL(path, this.options.baseUrl.replace(/\/*$/, '/'));
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    if (this.options.ownerId) headers['x-owner-id'] = this.options.ownerId;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const attempts = IDEMPOTENT.has(method) ? DEFAULT_RETRY.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          method,
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          redirect: init.redirect ?? 'follow',
        });
      } catch (error) {
        if (attempt >= attempts) throw new Error(`could not reach ${url.origin}: ${causeOf(error)}`, { cause: error });
        await sleep(backoffDelay(attempt, DEFAULT_RETRY));
        continue;
      }
      if (retryableStatus(response.status) && attempt < attempts) {
        await response.body?.cancel();
        await sleep(backoffDelay(attempt, DEFAULT_RETRY));
        continue;
      }
      return response;
    }
  }
}

/** The problem document of a failed answer as the SDK's error: `code` and `detail` survive. */
export async function problemError(method: string, path: string, response: Response): Promise<UploadApiError> {
  const problem = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const code = typeof problem.code === 'string' ? problem.code : 'http_error';
  const detail = typeof problem.detail === 'string' ? problem.detail : `${method} ${path} answered ${response.status}`;
  return new UploadApiError(response.status, code, detail, problem);
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`. */
export function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
