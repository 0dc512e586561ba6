import { Injectable } from '@nestjs/common';
import { DomainError, FileView, ListFilesQuery } from '@app/contracts';
import { FileRepository, FileWithVariants } from '@app/database';
import { FileLifecycle, isIn, STORED } from '@app/lifecycle';
import { DeliveryLinks } from '@app/delivery';
import type { OwnerScope } from '@app/auth';
import { dispositionFor } from './download-name';
import { decodeListCursor, encodeListCursor, listFilter } from './file-list-filter';

@Injectable()
export class FilesService {
  constructor(
    private readonly files: FileRepository,
    private readonly lifecycle: FileLifecycle,
    private readonly delivery: DeliveryLinks,
  ) {}

  /** A page of the owner's stored files, newest first, narrowed by the query's filters. */
  async list(scope: OwnerScope, query: ListFilesQuery): Promise<{ items: FileView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const filter = listFilter(query, STORED);
    const after = query.cursor ? decodeListCursor(query.cursor, filter.digest) : undefined;
    const rows = await this.files.listOwned(scope, filter.statuses, limit + 1, after, filter.sql);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: await Promise.all(page.map((file) => this.view(file))),
      nextCursor: rows.length > limit && last ? encodeListCursor(last, filter.digest) : null,
    };
  }

  async get(scope: OwnerScope, id: string): Promise<FileView> {
    return this.view(await this.visible(scope, id));
  }

  /**
   * Where the file's bytes (or a variant's) are served. A variant shown inline is its cacheable,
   * window-stable link (the CDN's when one is configured); the original, and a variant asked for
   * as an attachment, get a private short-lived link offered under a safe name.
   */
  async contentUrl(scope: OwnerScope, id: string, query: { variant?: string; disposition?: 'inline' | 'attachment' }): Promise<string> {
    const file = await this.visible(scope, id);
    if (query.variant) {
      const variant = file.variants.find((v) => v.name === query.variant);
      if (!variant) throw new DomainError('not_found', `This file has no variant "${query.variant}".`);
      if (query.disposition !== 'attachment') return (await this.delivery.variant(variant.storageKey)).url;
      const name = `${file.filename}.${query.variant}`;
      const link = await this.delivery.original(variant.storageKey, {
        contentDisposition: dispositionFor(name, variant.contentType, 'attachment'),
        contentType: variant.contentType,
      });
      return link.url;
    }
    const contentType = file.detectedType ?? file.contentType;
    const link = await this.delivery.original(file.storageKey, {
      contentDisposition: dispositionFor(file.filename, contentType, query.disposition),
      contentType,
    });
    return link.url;
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

  /** The file as the API shows it, with ready-to-use links to its variants: a list page needs no call per file. */
  private async view(file: FileWithVariants): Promise<FileView> {
    const link = async (name: string): Promise<string | null> => {
      const variant = file.variants.find((v) => v.name === name);
      return variant ? (await this.delivery.variant(variant.storageKey)).url : null;
    };
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
      thumbUrl: await link('thumb'),
      previewUrl: await link('preview'),
      posterUrl: await link('poster'),
    };
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
