import { backoffDelay, DEFAULT_RETRY, RetryPolicy, retryableStatus, sleep } from './retry';
import { StoragePut, storagePut, XhrConstructor } from './transport';

export interface ClientOptions {
  /** upload-api's base URL, e.g. https://uploads.example.com */
  baseUrl: string;
  /** A user token, or a tenant API key (then also `ownerId`). A function is called per request (refresh). */
  token: string | (() => string | Promise<string>);
  /** With a tenant API key: the owner the calls act for (X-Owner-Id). */
  ownerId?: string;
  retry?: Partial<RetryPolicy>;
  /**
   * Injected fetch (tests, instrumentation); the global fetch by default. Storage PUTs go through it
   * too, unless an `XMLHttpRequest` is given: in Node with a streamed body (`duplex: 'half'`).
   */
  fetch?: typeof fetch;
  /**
   * The XMLHttpRequest for storage PUTs (byte-level progress in browsers). By default the global one
   * when there is one and no `fetch` was injected; pass `XMLHttpRequest` to keep it with an injected fetch.
   */
  XMLHttpRequest?: XhrConstructor;
}

/** An answer of the API that was not a success: the problem document's stable `code` and status. */
export class UploadApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'UploadApiError';
  }
}

export interface PartUrl {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

export interface UploadState {
  id: string;
  status: string;
  mode: 'single' | 'multipart';
  filename: string;
  size: number;
  contentType: string;
  partSize?: number;
  partCount?: number;
  /** Whether parts must carry x-amz-checksum-sha256 (multipart uploads created with checksums). */
  checksum?: 'sha256' | null;
  uploadedParts: Array<{ partNumber: number; size: number; etag: string }>;
  bytesUploaded: number;
  expiresAt: string;
  createdAt: string;
}

export type Initiated =
  /** Instant upload: the content is already stored in scope; nothing to send. */
  | { id: string; status: 'ready'; deduplicated: true; mode: 'single' | 'multipart'; size: number }
  | { id: string; status: string; mode: 'single'; size: number; expiresAt: string; upload: { method: 'PUT'; url: string; headers: Record<string, string> } }
  | { id: string; status: string; mode: 'multipart'; size: number; partSize: number; partCount: number; expiresAt: string; parts: PartUrl[] };

/** The HTTP contract (api-v1.md), with retries for transient failures. */
export class ApiClient {
  readonly retry: RetryPolicy;
  readonly fetch: typeof fetch;
  /** How part bytes reach storage (transport.ts). */
  readonly storagePut: StoragePut;

  constructor(private readonly options: ClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.storagePut = storagePut({ fetch: this.fetch, injectedFetch: options.fetch !== undefined, XMLHttpRequest: options.XMLHttpRequest });
  }

  initiate(
    body: { filename: string; size: number; contentType: string; sha256?: string; checksum?: 'sha256'; metadata?: Record<string, unknown> },
    signal?: AbortSignal,
  ) {
    return this.call<Initiated>('POST', '/v1/uploads', body, signal);
  }

  signParts(id: string, partNumbers: number[], checksums: Record<string, string> | undefined, signal?: AbortSignal) {
    return this.call<{ parts: PartUrl[] }>('POST', `/v1/uploads/${id}/parts`, { partNumbers, ...(checksums ? { checksums } : {}) }, signal);
  }

  /**
   * The upload. `parts: 'storage'` (the default) lists what storage holds while it takes parts:
   * what a resume needs; `'ledger'` costs the API no storage call (status polling).
   */
  get(id: string, signal?: AbortSignal, parts: 'storage' | 'ledger' = 'storage') {
    return this.call<UploadState>('GET', `/v1/uploads/${id}${parts === 'ledger' ? '?parts=ledger' : ''}`, undefined, signal);
  }

  complete(id: string, parts: Array<{ partNumber: number; etag: string }> | undefined, signal?: AbortSignal) {
    return this.call<UploadState | { id: string; status: 'completing' }>('POST', `/v1/uploads/${id}/complete`, parts ? { parts } : {}, signal);
  }

  abort(id: string) {
    return this.call<void>('DELETE', `/v1/uploads/${id}`);
  }

  private async headers(hasBody: boolean): Promise<Record<string, string>> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    return {
      authorization: `Bearer ${token}`,
      ...(this.options.ownerId ? { 'x-owner-id': this.options.ownerId } : {}),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    };
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}${path}`;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          method,
          headers: await this.headers(body !== undefined),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
      } catch (error) {
        if (signal?.aborted || attempt >= this.retry.attempts) throw error;
        await sleep(backoffDelay(attempt, this.retry), signal);
        continue;
      }
      if (response.ok) {
        const text = await response.text();
        return (text ? JSON.parse(text) : undefined) as T;
      }
      const problem = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (retryableStatus(response.status) && attempt < this.retry.attempts) {
        const retryAfter = Number(response.headers.get('retry-after'));
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoffDelay(attempt, this.retry), signal);
        continue;
      }
      const code = typeof problem.code === 'string' ? problem.code : 'http_error';
      const detail = typeof problem.detail === 'string' ? problem.detail : `${method} ${path} answered ${response.status}`;
      throw new UploadApiError(response.status, code, detail, problem);
    }
  }
}
