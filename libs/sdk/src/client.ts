import { ApiClient, ClientOptions, UploadState } from './api';
import { sleep } from './retry';
import type { UploadSource } from './sources';
import { Upload, UploadOptions } from './upload';

/**
 * The upload platform's client: bytes go straight to storage through presigned URLs; this
 * library only talks metadata to the API.
 *
 *   const client = new UploadClient({ baseUrl, token });
 *   const upload = client.upload(fromBlob(file), { filename: file.name, contentType: file.type, onProgress });
 *   const { id } = await upload.done;
 */
export class UploadClient {
  readonly api: ApiClient;

  constructor(options: ClientOptions) {
    this.api = new ApiClient(options);
  }

  upload(source: UploadSource, options: UploadOptions): Upload {
    return new Upload(this.api, source, options);
  }

  /** Continues an upload begun anywhere (another tab, a crashed process): only what storage lacks is sent. */
  resume(uploadId: string, source: UploadSource, options: Omit<UploadOptions, 'filename' | 'contentType' | 'metadata'> = {}): Upload {
    return new Upload(this.api, source, { filename: '', ...options }, uploadId);
  }

  /**
   * Polls until storage's event has moved the upload past completion, or it ended otherwise: the
   * state's status is then `uploaded`, `processing` or `ready`, or an end state (`rejected`,
   * `failed`, `aborted`, `expired`, `deleted`), returned, not thrown. Throws after `timeoutMs`.
   */
  async waitUntilStored(uploadId: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<UploadState> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const state = await this.api.get(uploadId, undefined, 'ledger');
      if (!['pending', 'uploading', 'completing'].includes(state.status)) return state;
      if (Date.now() > deadline) throw new Error(`upload ${uploadId} still ${state.status} after ${options.timeoutMs ?? 60_000} ms`);
      await sleep(options.intervalMs ?? 250);
    }
  }
}
