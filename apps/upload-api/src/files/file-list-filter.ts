import { createHash } from 'node:crypto';
import { DomainError, FileStatusName, ListFilesQuery } from '@app/contracts';
import type { FileListFilters } from '@app/database';
import { decodePageCursor, encodePageCursor, PagePosition } from '@app/http';

/** A file list's filters as the repository takes them, and the digest that binds cursors to them. */
export interface ListFilter {
  /** The statuses to list: the listable ones, or those of them the query names. */
  statuses: readonly FileStatusName[];
  sql: FileListFilters;
  /** Null without filters: the cursor is then exactly the one the list always issued. */
  digest: string | null;
}

/** Every created_at lies within these (no file predates 1970; Postgres stores up to year 294276). */
const EARLIEST = 0;
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

const invalid = (field: string, detail: string, message: string) => new DomainError('validation_failed', detail, { errors: [{ field, message }] });

/**
 * The query's filters, checked and normalised (issue #13). `listable` are the statuses a file list
 * shows (stored files); a status outside them is a 400 rather than an always-empty page, so a
 * client looking for uploads in progress learns where they are not.
 * - `contentType`: exact, or a prefix when it ends with `/` or `/*` (both mean the whole type);
 *   content types are stored in lower case, so the filter is case-insensitive.
 * - `filename`: a prefix, case-insensitive (people remember names, not their case).
 * - `createdAfter` inclusive, `createdBefore` exclusive: windows side by side never overlap.
 */
export function listFilter(query: ListFilesQuery, listable: readonly FileStatusName[]): ListFilter {
  let statuses = listable;
  if (query.status !== undefined) {
    const named = new Set(query.status.split(',') as FileStatusName[]);
    const unlisted = [...named].filter((status) => !listable.includes(status));
    if (unlisted.length) {
      throw invalid(
        'status',
        `The file list holds stored files only (${listable.join(', ')}); ${unlisted.join(', ')} ${unlisted.length > 1 ? 'are' : 'is'} not among them. An upload in progress is read with GET /v1/uploads/{id}.`,
        `must be among ${listable.join(', ')}`,
      );
    }
    statuses = listable.filter((status) => named.has(status));
  }
  const sql: FileListFilters = {};
  if (query.contentType !== undefined) {
    const type = query.contentType.toLowerCase();
    if (type.endsWith('/*')) sql.contentTypePrefix = type.slice(0, -1);
    else if (type.endsWith('/')) sql.contentTypePrefix = type;
    else sql.contentType = type;
  }
  if (query.filename !== undefined) sql.filenamePrefix = query.filename;
  if (query.createdAfter !== undefined) sql.createdFrom = new Date(clamp(Date.parse(query.createdAfter)));
  if (query.createdBefore !== undefined) sql.createdUntil = new Date(clamp(Date.parse(query.createdBefore)));
  const filtered = query.status !== undefined || Object.keys(sql).length > 0;
  return { statuses, sql, digest: filtered ? digestOf(statuses, sql) : null };
}

/** The next page's cursor: the position, and the filters' digest after a dot when there are filters. */
export function encodeListCursor(position: PagePosition, digest: string | null): string {
  const cursor = encodePageCursor(position);
  return digest ? `${cursor}.${digest}` : cursor;
}

/**
 * The position a cursor names, if it was issued for these filters: a page of other filters
 * continues from a position that means nothing to them, so a cursor sent with other filters (or
 * without the ones it was issued for) is a 400, not a page that silently skips or repeats files.
 */
export function decodeListCursor(cursor: string, digest: string | null): PagePosition {
  const dot = cursor.indexOf('.');
  const given = dot < 0 ? null : cursor.slice(dot + 1);
  const position = decodePageCursor(dot < 0 ? cursor : cursor.slice(0, dot));
  if (given !== digest) {
    throw invalid(
      'cursor',
      'This cursor was issued for other filters: send it with the same filters as the request that returned it.',
      'belongs to other filters',
    );
  }
  return position;
}

function clamp(ms: number): number {
  return Math.min(LATEST, Math.max(EARLIEST, ms));
}

/** 96 bits of SHA-256 over the normalised filters: equal filters, equal digest. */
function digestOf(statuses: readonly FileStatusName[], sql: FileListFilters): string {
  const canonical = JSON.stringify([
    statuses,
    sql.contentType ?? null,
    sql.contentTypePrefix ?? null,
    sql.filenamePrefix?.toLowerCase() ?? null,
    sql.createdFrom?.toISOString() ?? null,
    sql.createdUntil?.toISOString() ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}
