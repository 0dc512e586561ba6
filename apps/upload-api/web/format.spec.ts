import { formatBytes, formatEta, formatSpeed, SpeedMeter } from './format';

describe('the uploader’s numbers', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [100 * 1024 ** 2, '100 MiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
  ])('%i bytes read as %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it('reads speeds and times left', () => {
    expect(formatSpeed(12.4 * 1024 ** 2)).toBe('12 MiB/s');
    expect(formatEta(42.4)).toBe('42 s left');
    expect(formatEta(125)).toBe('2 min 5 s left');
    expect(formatEta(3 * 3600 + 60 * 7)).toBe('3 h 7 min left');
    expect(formatEta(Infinity)).toBe('');
  });

  it('measures speed over the recent window only, and forgets a pause', () => {
    const meter = new SpeedMeter(5_000);
    meter.sample(0, 0);
    meter.sample(10 * 1024 ** 2, 1_000); // 10 MiB/s at first
    meter.sample(10 * 1024 ** 2, 20_000); // then nothing for 19 s
    meter.sample(12 * 1024 ** 2, 21_000); // 2 MiB in the last second
    expect(meter.bytesPerSecond()).toBeCloseTo((2 * 1024 ** 2) / 1, 0);
    meter.reset();
    expect(meter.bytesPerSecond()).toBe(0);
  });
});
