import { DomainError } from '@app/contracts';
import { decodePageCursor, encodePageCursor } from '@app/http';
import { STORED } from '@app/lifecycle';
import { decodeListCursor, encodeListCursor, listFilter } from './file-list-filter';

const position = { createdAt: new Date('2026-11-30T12:00:00.000Z'), id: '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b' };

function problem(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('file list filters', () => {
  it('without filters lists every stored status and binds no digest, so its cursor is the one the list always issued', () => {
    const filter = listFilter({}, STORED);
    expect(filter).toEqual({ statuses: STORED, sql: {}, digest: null });
    const cursor = encodeListCursor(position, null);
    expect(cursor).toBe(encodePageCursor(position));
    expect(decodeListCursor(cursor, null)).toEqual(position);
  });

  it('lists the named statuses in the order of the stored set, and refuses one outside it as a validation problem on status', () => {
    expect(listFilter({ status: 'failed,ready,failed' }, STORED).statuses).toEqual(['ready', 'failed']);
    const refused = problem(() => listFilter({ status: 'ready,pending' }, STORED));
    expect(refused.code).toBe('validation_failed');
    expect(refused.extra).toEqual({ errors: [{ field: 'status', message: `must be among ${STORED.join(', ')}` }] });
    expect(refused.detail).toContain('pending is not among them');
  });

  it('reads a content type as exact, or as a whole type when it ends in / or /*, in lower case', () => {
    expect(listFilter({ contentType: 'Image/PNG' }, STORED).sql).toEqual({ contentType: 'image/png' });
    expect(listFilter({ contentType: 'image/' }, STORED).sql).toEqual({ contentTypePrefix: 'image/' });
    expect(listFilter({ contentType: 'IMAGE/*' }, STORED).sql).toEqual({ contentTypePrefix: 'image/' });
  });

  it('keeps the creation window within what Postgres stores, and the filename prefix as given', () => {
    const { sql } = listFilter({ createdAfter: '0001-01-01T00:00:00Z', createdBefore: '9999-12-31T23:59:59-12:00', filename: 'Report' }, STORED);
    expect(sql).toEqual({ createdFrom: new Date(0), createdUntil: new Date('9999-12-31T23:59:59.999Z'), filenamePrefix: 'Report' });
    expect(listFilter({ createdAfter: '2026-04-01T02:00:00+02:00' }, STORED).sql.createdFrom).toEqual(new Date('2026-04-01T00:00:00.000Z'));
  });

  it('gives equal filters, however spelled, one digest, and different filters different ones', () => {
    const digest = (q: Parameters<typeof listFilter>[0]) => listFilter(q, STORED).digest;
    expect(digest({ contentType: 'image/*', filename: 'IMG' })).toBe(digest({ contentType: 'IMAGE/', filename: 'img' }));
    expect(digest({ status: 'ready,failed' })).toBe(digest({ status: 'failed,ready' }));
    expect(digest({ createdAfter: '2026-04-01T02:00:00+02:00' })).toBe(digest({ createdAfter: '2026-04-01T00:00:00Z' }));
    const all = [
      digest({ contentType: 'image/' }),
      digest({ contentType: 'image/png' }),
      digest({ filename: 'image/' }),
      digest({ status: 'ready' }),
      digest({ createdAfter: '2026-04-01T00:00:00Z' }),
      digest({ createdBefore: '2026-04-01T00:00:00Z' }),
    ];
    expect(new Set(all).size).toBe(all.length);
    expect(all.every((d) => d !== null && /^[A-Za-z0-9_-]{16}$/.test(d))).toBe(true);
  });

  it('accepts a cursor only with the filters it was issued for', () => {
    const digest = listFilter({ contentType: 'image/' }, STORED).digest;
    const other = listFilter({ contentType: 'video/' }, STORED).digest;
    const cursor = encodeListCursor(position, digest);
    expect(cursor.startsWith(`${encodePageCursor(position)}.`)).toBe(true);
    expect(decodeListCursor(cursor, digest)).toEqual(position);
    for (const [given, expected] of [
      [cursor, other],
      [cursor, null],
      [encodePageCursor(position), digest],
    ] as const) {
      expect(problem(() => decodeListCursor(given, expected)).extra).toEqual({ errors: [{ field: 'cursor', message: 'belongs to other filters' }] });
    }
    // A cursor that is no cursor stays the page cursor's problem, whatever follows the dot.
    expect(problem(() => decodeListCursor(`garbage.${digest}`, digest)).extra).toEqual(problem(() => decodePageCursor('garbage')).extra);
  });
});
