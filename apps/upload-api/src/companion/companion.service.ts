import { Injectable } from '@nestjs/common';
import { CompanionCompleteBody, CompanionCreateBody, CompanionParamsQuery, DomainError } from '@app/contracts';
import { FileRepository, FileRecord } from '@app/database';
import type { OwnerScope } from '@app/auth';
import { UploadsService } from '../uploads/uploads.service';

/**
 * Companion's S3 routes over the platform's own uploads: each call is the v1 call it stands for
 * (the same quota, checks, ledger, storage-confirmed completion and change events), answered in
 * Companion's shapes. The `uploadId` Uppy carries is the platform's upload id, and the `key` it
 * sends back must be that upload's object key.
 */
@Injectable()
export class CompanionService {
  constructor(
    private readonly uploads: UploadsService,
    private readonly files: FileRepository,
  ) {}

  /** `GET /s3/params`: a single upload of unknown size, sent as a form POST under a bounded policy. */
  async uploadParameters(scope: OwnerScope, query: CompanionParamsQuery) {
    const { form } = await this.uploads.startUnsized(scope, query, 'single');
    return { method: 'POST' as const, url: form!.url, fields: form!.fields, expires: secondsUntil(form!.expiresAt) };
  }

  /** `POST /s3/multipart`. */
  async createMultipart(scope: OwnerScope, body: CompanionCreateBody) {
    const { file } = await this.uploads.startUnsized(scope, body, 'multipart');
    return { key: file.storageKey, uploadId: file.id };
  }

  /** `GET /s3/multipart/{uploadId}`: the parts storage holds, as a client resumes from them. */
  async listParts(scope: OwnerScope, id: string, key: string) {
    await this.owned(scope, id, key);
    const view = await this.uploads.get(scope, id);
    return view.uploadedParts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }));
  }

  /** `GET /s3/multipart/{uploadId}/{partNumber}` and `/batch?partNumbers=`. */
  async signParts(scope: OwnerScope, id: string, key: string, partNumbers: number[]) {
    await this.owned(scope, id, key);
    const { parts } = await this.uploads.signParts(scope, id, { partNumbers });
    return parts.map((p) => ({ partNumber: p.partNumber, url: p.url, expires: secondsUntil(new Date(p.expiresAt)) }));
  }

  /** `POST /s3/multipart/{uploadId}/complete`: checked and handed to completion like `POST /v1/uploads/{id}/complete`. */
  async complete(scope: OwnerScope, id: string, key: string, body: CompanionCompleteBody, origin: string) {
    await this.owned(scope, id, key);
    await this.uploads.complete(scope, id, { parts: body.parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })) });
    return { location: `${origin}/v1/uploads/${id}`, key };
  }

  /** `DELETE /s3/multipart/{uploadId}`: aborted, its quota released. */
  async abort(scope: OwnerScope, id: string, key: string) {
    await this.owned(scope, id, key);
    await this.uploads.abort(scope, id);
    return {};
  }

  /** The caller's upload, when `key` is its object key (else, as for another owner's, none). */
  private async owned(scope: OwnerScope, id: string, key: string): Promise<FileRecord> {
    const file = await this.files.findOwned(scope, id);
    if (!file || file.storageKey !== key) throw new DomainError('not_found', 'No such upload.');
    return file;
  }
}

/** Companion answers how long a signature lasts in seconds (`expires`), not when it ends. */
function secondsUntil(at: Date): number {
  return Math.max(0, Math.round((at.getTime() - Date.now()) / 1000));
}
