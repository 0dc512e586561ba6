import { Injectable, Logger } from '@nestjs/common';
import { DomainError, FileStatusName, FileView } from '@app/contracts';
import { FileRepository, FileRow } from '@app/database';
import { FastPresigner, ObjectStorage } from '@app/storage';
import type { OwnerScope } from '@app/auth';
import { decodePageCursor, encodePageCursor } from '@app/http';
import { dispositionFor } from './download-name';

/** Statuses in which an upload is a file of its owner (listed, readable). */
const VISIBLE: readonly FileStatusName[] = ['uploaded', 'processing', 'ready', 'failed'];
/** Statuses in which the bytes are in storage and count against the quota. */
const STORED: readonly FileStatusName[] = ['uploaded', 'processing', 'ready', 'failed'];
/** A download link is for now, not for sharing. */
const DOWNLOAD_URL_SECONDS = 300;

type FileWithVariants = FileRow & {
  variants: Array<{
    name: string;
    contentType: string;
    size: bigint;
    width: number | null;
    height: number | null;
    durationMs: number | null;
    storageKey: string;
  }>;
};

@Injectable()
export class FilesService {
  private readonly logger = new Logger(FilesService.name);

  constructor(
    private readonly files: FileRepository,
    private readonly storage: ObjectStorage,
    private readonly presigner: FastPresigner,
  ) {}

  async list(scope: OwnerScope, query: { cursor?: string; limit?: number }): Promise<{ items: FileView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const rows = await this.files.listOwned(scope, VISIBLE, limit + 1, query.cursor ? decodePageCursor(query.cursor) : undefined);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(view), nextCursor: rows.length > limit && last ? encodePageCursor(last) : null };
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
    const deleted = await this.files.deleteAndRelease(id, {
      to: 'deleted',
      from: [...STORED, 'rejected'],
      quota: STORED.includes(file.status) ? 'free' : undefined,
      data: { deletedAt: new Date(), statusReason: 'deleted_by_owner' },
      change: { type: 'file.deleted' },
    });
    if (!deleted)
      throw new DomainError('invalid_state', `The upload is ${file.status}; abort it with DELETE /v1/uploads/${id}.`, { uploadStatus: file.status });
    try {
      // Only objects no other live file refers to (instant uploads share them).
      await Promise.all(deleted.orphanKeys.map((key) => this.storage.delete(key)));
    } catch (error) {
      this.logger.warn({ err: error, fileId: id }, 'storage cleanup after delete failed; left to the reconciler');
    }
  }

  private async visible(scope: OwnerScope, id: string): Promise<FileWithVariants> {
    const file = await this.files.findOwnedWithVariants(scope, id);
    if (!file || !VISIBLE.includes(file.status)) throw notFound();
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
