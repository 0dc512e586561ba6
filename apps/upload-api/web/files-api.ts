// The file routes the SDK does not wrap (api-v1.md, Files and downloads): list, read, delete, and
// a variant's or the file's bytes. Content answers 302 to a presigned storage GET; fetch follows
// it (storage's CORS rule allows GET) and drops the Authorization header at the cross-origin hop.
import { UploadApiError } from '@app/sdk';
import { authHeaders, Session } from './session';

export interface Variant {
  name: string;
  contentType: string;
  size: number;
  width?: number | null;
  height?: number | null;
}

export interface FileView {
  id: string;
  filename: string;
  size: number;
  contentType: string;
  status: string;
  createdAt: string;
  variants: Variant[];
  /** Ready-to-use links (the CDN's when one is configured), shown as they are. */
  thumbUrl?: string | null;
  posterUrl?: string | null;
}

export class FilesApi {
  constructor(
    private readonly baseUrl: string,
    private readonly session: Session,
  ) {}

  async list(cursor?: string): Promise<{ items: FileView[]; nextCursor: string | null }> {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    return (await (await this.call('GET', `/v1/files?${query}`)).json()) as { items: FileView[]; nextCursor: string | null };
  }

  async get(id: string): Promise<FileView | null> {
    try {
      return (await (await this.call('GET', `/v1/files/${encodeURIComponent(id)}`)).json()) as FileView;
    } catch (error) {
      if (error instanceof UploadApiError && error.status === 404) return null;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await this.call('DELETE', `/v1/files/${encodeURIComponent(id)}`);
  }

  /** The file's bytes, or a variant's (`thumb`, `poster`), as a Blob. */
  async content(id: string, variant?: string, disposition: 'inline' | 'attachment' = 'inline'): Promise<Blob> {
    const query = new URLSearchParams({ disposition, ...(variant ? { variant } : {}) });
    return (await this.call('GET', `/v1/files/${encodeURIComponent(id)}/content?${query}`)).blob();
  }

  private async call(method: string, path: string): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers: authHeaders(this.session) });
    if (response.ok) return response;
    const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new UploadApiError(response.status, problem.code ?? 'http_error', problem.detail ?? `${method} ${path} answered ${response.status}`, problem);
  }
}
