import { progressMode } from './progress';
import { formatBytes, formatDuration } from './output';
import { parseSize, tenantBody } from './commands/admin';
import { UsageError } from './exit-codes';

describe('how progress is shown', () => {
  it('auto: bars on a terminal, lines in a log or pipe, nothing with --json', () => {
    expect(progressMode('auto', true, false)).toBe('bar');
    expect(progressMode('auto', false, false)).toBe('line');
    expect(progressMode(undefined, true, true)).toBe('none');
  });

  it('an explicit mode wins, even with --json', () => {
    expect(progressMode('line', true, false)).toBe('line');
    expect(progressMode('bar', false, true)).toBe('bar');
    expect(progressMode('none', true, false)).toBe('none');
  });

  it('formats sizes in binary units and durations for a person', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(200 * 1024 ** 2)).toBe('200.0 MiB');
    expect(formatDuration(0.42)).toBe('0.4s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(188)).toBe('3m08s');
    expect(formatDuration(7380)).toBe('2h03m');
    expect(formatDuration(NaN)).toBe('--');
  });
});

describe('tenant settings from flags', () => {
  it('reads sizes with binary units or as bytes', () => {
    expect(parseSize('12345')).toBe(12345);
    expect(parseSize('500MiB')).toBe(500 * 1024 ** 2);
    expect(parseSize('10g')).toBe(10 * 1024 ** 3);
    expect(parseSize('1.5 TiB')).toBe(1.5 * 1024 ** 4);
    expect(() => parseSize('lots')).toThrow(UsageError);
  });

  it('sends only what was given', () => {
    expect(tenantBody({})).toEqual({});
    expect(tenantBody({ quota: '1GiB', allowedTypes: 'image/*, video/mp4,', svg: false })).toEqual({
      quotaBytes: 1024 ** 3,
      allowedTypes: ['image/*', 'video/mp4'],
      allowSvgRendering: false,
    });
    expect(() => tenantBody({ dedupScope: 'world' })).toThrow(UsageError);
  });
});
