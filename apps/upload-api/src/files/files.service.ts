import { Injectable } from '@nestjs/common';
import { DomainError, FileView, ListFilesQuery } from '@app/contracts';
import { FileRepository, FileWithVariants } from '@app/database';
import { FileLifecycle, isIn, STORED } from '@app/lifecycle';
import { FastPresigner } from '@app/storage';
import type { OwnerScope } from '@app/auth';
import { dispositionFor } from './download-name';
import { decodeListCursor, encodeListCursor, listFilter } from './file-list-filter';

/** A download link is for now, not for sharing. */
const DOWNLOAD_URL_SECONDS = 300;

@Injectable()
export class FilesService {
  constructor(
    private readonly files: FileRepository,
    private readonly lifecycle: FileLifecycle,
    private readonly presigner: FastPresigner,
  ) {}

  /** A page of the owner's stored files, newest first, narrowed by the query's filters. */
  async list(scope: OwnerScope, query: ListFilesQuery): Promise<{ items: FileView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const filter = listFilter(query, STORED);
    const after = query.cursor ? decodeListCursor(query.cursor, filter.digest) : undefined;
    const rows = await this.files.listOwned(scope, filter.statuses, limit + 1, after, filter.sql);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(view), nextCursor: rows.length > limit && last ? encodeListCursor(last, filter.digest) : null };
  }

  async get(scope: OwnerScope, id: string): Promise<FileView> {
    return view(await this.visible(scope, id));
  }

  /** A short-lived presigned GET of the file or one of its variants, offered under a safe name. */
  async contentUrl(scope: OwnerScope, id: string, query: { variant?: string; disposition?: 'inline' | 'attachment' }): Promise<string> {
    const file = await this.visible(scope, id);
    let key = file.storageKey;
    let contentType = file.detectedType ?? file.contentType;
    let name = file.filename;
    if (query.variant) {
      const variant = file.variants.find((v) => v.name === query.variant);
      if (!variant) throw new DomainError('not_found', `This file has no variant "${query.variant}".`);
      key = variant.storageKey;
      contentType = variant.contentType;
      name = `${file.filename}.${query.variant}`;
    }
    const url = await this.presigner.getObject(key, {
      contentDisposition: dispositionFor(name, contentType, query.disposition),
      contentType,
      expiresInSeconds: DOWNLOAD_URL_SECONDS,
    });
    return url.url;
  }

  /** Deletes the file: the row moves to `deleted` (quota freed) first, then storage is cleaned. */
  async delete(scope: OwnerScope, id: string): Promise<void> {
    const file = await this.files.findOwnedWithVariants(scope, id);
    if (!file) throw notFound();
    if (file.status === 'deleted') return;
    // Storage keeps only objects no other live file refers to (instant uploads share them).
    if (!(await this.lifecycle.delete(file)))
      throw new DomainError('invalid_state', `The upload is ${file.status}; abort it with DELETE /v1/uploads/${id}.`, { uploadStatus: file.status });
  }

  private async visible(scope: OwnerScope, id: string): Promise<FileWithVariants> {
    const file = await this.files.findOwnedWithVariants(scope, id);
    if (!file || !isIn(STORED, file.status)) throw notFound();
    return file;
  }
}

function notFound(): DomainError {
  return new DomainError('not_found', 'No such file.');
}

function view(file: FileWithVariants): FileView {
  return {
    id: file.id,
    filename: file.filename,
    size: Number(file.size),
    contentType: file.contentType,
    detectedType: file.detectedType,
    sha256: file.sha256,
    status: file.status,
    createdAt: file.createdAt.toISOString(),
    readyAt: file.readyAt?.toISOString() ?? null,
    width: file.width,
    height: file.height,
    placeholder: file.placeholder,
    scan: file.scan,
    metadata: (file.metadata as Record<string, unknown> | null) ?? null,
    variants: file.variants.map((v) => ({
      name: v.name,
      contentType: v.contentType,
      size: Number(v.size),
      ...(v.width !== null ? { width: v.width } : {}),
      ...(v.height !== null ? { height: v.height } : {}),
      ...(v.durationMs !== null ? { durationMs: v.durationMs } : {}),
    })),
  };
}
