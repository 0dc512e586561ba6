import { DomainError } from '@app/contracts';

/** A position in a newest-first listing ordered by (createdAt, id): opaque to clients. */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

export function encodePageCursor(row: PagePosition): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/** The position a cursor names; a cursor this API did not issue is a 400 problem. */
export function decodePageCursor(cursor: string): PagePosition {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new DomainError('validation_failed', 'The cursor is not one this API issued.', { errors: [{ field: 'cursor', message: 'is invalid' }] });
  }
  return { createdAt, id };
}
