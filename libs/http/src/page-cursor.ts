import { DomainError } from '@app/contracts';

/** A position in a newest-first listing ordered by (createdAt, id): opaque to clients. */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

export function encodePageCursor(row: PagePosition): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/**
 * The position a cursor names; a cursor this API did not issue is a 400 problem. Only the exact
 * text `encodePageCursor` makes is accepted (a canonical UUID, a timestamp that prints back the
 * same), so nothing Postgres would refuse (an id of dashes, a year past 9999) reaches it.
 */
export function decodePageCursor(cursor: string): PagePosition {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(CURSOR_TIME.test(at ?? '') ? at : NaN);
  // No file is older than 1970, and four-digit years keep it within what Postgres stores.
  const valid = rest.length === 0 && createdAt.getTime() >= 0 && createdAt.toISOString() === at && UUID.test(id ?? '');
  if (!valid) {
    throw new DomainError('validation_failed', 'The cursor is not one this API issued.', { errors: [{ field: 'cursor', message: 'is invalid' }] });
  }
  return { createdAt, id };
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
