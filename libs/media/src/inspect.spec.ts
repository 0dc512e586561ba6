import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { inspect } from './inspect';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(120)]);
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from([0x40, 0, 0, 0]), Buffer.from('PE\0\0'), Buffer.alloc(200)]);

/** A stream in small chunks, as storage delivers it. */
const chunked = (bytes: Buffer, size = 7) =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

describe('inspect', () => {
  it('hashes the whole stream and sniffs the type from its first bytes', async () => {
    const bytes = Buffer.concat([PNG, Buffer.alloc(10_000, 1)]);
    expect(await inspect(chunked(bytes))).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), detectedType: 'image/png' });
  });

  it.each([
    ['an ELF executable', ELF, 'application/x-elf'],
    ['a Windows PE executable', PE, 'application/x-msdownload'],
  ])('recognises %s whatever it was declared as', async (_, bytes, type) => {
    expect((await inspect(chunked(bytes))).detectedType).toBe(type);
  });

  it('names text without markup text/plain, reports no type for unknown binary bytes, and handles empty files', async () => {
    expect((await inspect(chunked(Buffer.from('just some text\n')))).detectedType).toBe('text/plain');
    expect((await inspect(chunked(Buffer.from([0x00, 0x9f, 0x13, 0x37])))).detectedType).toBeNull();
    expect(await inspect(Readable.from([]))).toEqual({ size: 0, sha256: createHash('sha256').digest('hex'), detectedType: null });
  });
});
