import { DomainError } from '@app/contracts';
import { decodePageCursor, encodePageCursor } from './page-cursor';

const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

describe('page cursors', () => {
  it('decode to the position they were made from', () => {
    const position = { createdAt: new Date('2026-12-07T03:04:05.678Z'), id: '0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01' };
    expect(decodePageCursor(encodePageCursor(position))).toEqual(position);
  });

  it.each([
    ['an id of dashes', '2020-01-01T00:00:00Z|------------------------------------'],
    ['an id of 36 zeros', '2020-01-01|000000000000000000000000000000000000'],
    ['a year before 0', '-200000-01-01T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01'],
    ['the last date JavaScript knows', '+275760-09-13T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01'],
    ['a date JavaScript rolls over', '2021-02-30T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01'],
    ['an upper-case id', '2021-02-03T00:00:00.000Z|0B9C3A52-6F1E-4C1F-9D38-2F7A7D7C1E01'],
    ['a third field', '2021-02-03T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01|x'],
    ['a year before any file', '0000-01-01T00:00:00.000Z|0b9c3a52-6f1e-4c1f-9d38-2f7a7d7c1e01'],
    ['nothing', ''],
  ])('refuse %s as a 400 validation problem', (_, text) => {
    expect(() => decodePageCursor(cursorOf(text))).toThrow(DomainError);
    try {
      decodePageCursor(cursorOf(text));
    } catch (error) {
      expect((error as DomainError).code).toBe('validation_failed');
    }
  });
});
