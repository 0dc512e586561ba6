import { typeAllowed } from './mime';

describe('typeAllowed', () => {
  it.each([
    ['image/jpeg', ['image/*'], true],
    ['image/jpeg', ['image/png'], false],
    ['IMAGE/JPEG; charset=x', ['image/jpeg'], true],
    ['video/mp4', ['image/*', 'video/mp4'], true],
    ['application/x-msdownload', ['image/*', 'video/*'], false],
    ['anything/else', ['*/*'], true],
    ['anything/else', [], true],
  ] as const)('%s against %j is %s', (type, patterns, expected) => {
    expect(typeAllowed(type, patterns)).toBe(expected);
  });
});
