import fc from 'fast-check';
import { MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from '@app/contracts';
import { DomainError } from '@app/contracts';
import { checkParts, expectedPartSize, maxPartNumber, partSizeProblem, planUpload } from './upload-plan';

const options = { multipartThresholdBytes: 16 * 1024 ** 2, minPartBytes: 8 * 1024 ** 2 };

describe('planUpload', () => {
  it('uses one PUT for empty and small files', () => {
    expect(planUpload(0, options)).toEqual({ mode: 'single' });
    expect(planUpload(16 * 1024 ** 2, options)).toEqual({ mode: 'single' });
  });

  it('uses the minimum part size for moderate files', () => {
    expect(planUpload(100 * 1024 ** 2, options)).toEqual({ mode: 'multipart', partSize: 8 * 1024 ** 2, partCount: 13 });
  });

  it('fits the largest object S3 stores (5 TiB) within 10,000 parts of at most 5 GiB', () => {
    const plan = planUpload(MAX_OBJECT_BYTES, options);
    expect(plan.mode).toBe('multipart');
    if (plan.mode !== 'multipart') return;
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_BYTES);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(MAX_OBJECT_BYTES);
  });

  it('property: every multipart plan covers the file with valid parts', () => {
    fc.assert(
      fc.property(fc.integer({ min: options.multipartThresholdBytes + 1, max: MAX_OBJECT_BYTES }), (size) => {
        const plan = planUpload(size, options);
        if (plan.mode !== 'multipart') return false;
        const last = expectedPartSize(size, plan.partSize, plan.partCount);
        return (
          plan.partCount <= MAX_PARTS &&
          plan.partSize >= MIN_PART_BYTES &&
          plan.partSize <= MAX_PART_BYTES &&
          last > 0 &&
          last <= plan.partSize &&
          plan.partSize * (plan.partCount - 1) + last === size
        );
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('planUpload with a declared part size', () => {
  it('plans in that size, in parts even below the threshold', () => {
    expect(planUpload(12 * 1024 ** 2, { ...options, partSize: 5 * 1024 ** 2 })).toEqual({ mode: 'multipart', partSize: 5 * 1024 ** 2, partCount: 3 });
  });
});

describe('partSizeProblem', () => {
  const MiB = 1024 ** 2;
  it.each([
    [60 * MiB, 5 * MiB, null],
    [60 * MiB, 6 * MiB, null],
    [1, 5 * MiB, null],
    [60 * MiB, 5 * MiB - 1, `must be between ${MIN_PART_BYTES} and ${MAX_PART_BYTES} bytes`],
    [60 * MiB, MAX_PART_BYTES + 1, `must be between ${MIN_PART_BYTES} and ${MAX_PART_BYTES} bytes`],
    [MAX_PARTS * 5 * MiB, 5 * MiB, null],
    [MAX_PARTS * 5 * MiB + 1, 5 * MiB, 'makes 10001 parts of this file; at most 10000 are allowed'],
    [0, 5 * MiB, 'an empty file is sent with one PUT: declare no part size'],
  ])('%d bytes in parts of %d: %s', (size, partSize, expected) => {
    expect(partSizeProblem(size, partSize)).toBe(expected);
  });
});

describe('maxPartNumber', () => {
  const MiB = 1024 ** 2;
  it.each([
    [1, 1],
    [5 * MiB, 1],
    [5 * MiB + 1, 2],
    [60 * MiB, 12],
    [MAX_OBJECT_BYTES, MAX_PARTS],
  ])('%d bytes: at most part %d', (size, expected) => {
    expect(maxPartNumber(size)).toBe(expected);
  });
});

describe('checkParts', () => {
  const MiB = 1024 ** 2;
  const file = { size: 20 * MiB + 3, partSize: 8 * MiB, partCount: 3 };
  const part = (partNumber: number, size: number, etag = `e${partNumber}`) => ({ partNumber, size, etag });
  const layout = (...sizes: number[]) => sizes.map((size, i) => part(i + 1, size));
  const codeOf = (fn: () => void) => {
    try {
      fn();
      return null;
    } catch (e) {
      return e instanceof DomainError ? { code: e.code, extra: e.extra } : e;
    }
  };

  it('accepts exactly the planned parts', () => {
    expect(codeOf(() => checkParts(file, layout(8 * MiB, 8 * MiB, 4 * MiB + 3)))).toBeNull();
  });

  it("accepts any layout of the client's own: contiguous, 5 MiB but the last, adding up to the size (#14)", () => {
    expect(codeOf(() => checkParts(file, layout(5 * MiB, 5 * MiB, 5 * MiB, 5 * MiB, 3)))).toBeNull();
    expect(codeOf(() => checkParts(file, layout(6 * MiB, 6 * MiB, 6 * MiB, 2 * MiB + 3)))).toBeNull();
    expect(codeOf(() => checkParts(file, layout(20 * MiB + 3)))).toBeNull();
    // Parts of unequal sizes are as good, and storage may list them in any order.
    expect(codeOf(() => checkParts(file, [part(2, 9 * MiB), part(1, 5 * MiB), part(3, 6 * MiB + 3)]))).toBeNull();
  });

  it('names the missing parts: gaps, and the parts after the last stored one in the layout in use', () => {
    expect(codeOf(() => checkParts(file, [part(2, 8 * MiB)]))).toEqual({
      code: 'parts_missing',
      extra: { missingParts: [1, 3], missingCount: 2, missingBytes: 12 * MiB + 3 },
    });
    // Uppy's 5 MiB parts of a 60 MiB file planned in 8 MiB ones: parts 9-12 are still to come.
    const uppy = { size: 60 * MiB, partSize: 8 * MiB, partCount: 8 };
    expect(codeOf(() => checkParts(uppy, layout(...Array<number>(8).fill(5 * MiB))))).toEqual({
      code: 'parts_missing',
      extra: { missingParts: [9, 10, 11, 12], missingCount: 4, missingBytes: 20 * MiB },
    });
    expect(codeOf(() => checkParts(file, []))).toEqual({
      code: 'parts_missing',
      extra: { missingParts: [1, 2, 3], missingCount: 3, missingBytes: 20 * MiB + 3 },
    });
  });

  it('refuses parts that are not contiguous even when the bytes add up', () => {
    expect(codeOf(() => checkParts(file, [part(1, 10 * MiB), part(3, 10 * MiB + 3)]))).toEqual({
      code: 'parts_missing',
      extra: { missingParts: [2], missingCount: 1, missingBytes: 0 },
    });
  });

  it('refuses a middle part under 5 MiB, even when the sizes add up', () => {
    const result = codeOf(() => checkParts(file, layout(8 * MiB, 4 * MiB, 8 * MiB + 3))) as { code: string; extra: { mismatchedParts: unknown[] } };
    expect(result).toEqual({
      code: 'part_mismatch',
      extra: { mismatchedParts: [{ partNumber: 2, reason: `size ${4 * MiB}: every part but the last must hold at least ${MIN_PART_BYTES} bytes` }] },
    });
  });

  it('refuses parts holding more bytes than declared, or fewer with no part left to name', () => {
    expect(codeOf(() => checkParts(file, layout(8 * MiB, 8 * MiB, 4 * MiB + 4)))).toEqual({
      code: 'part_mismatch',
      extra: { mismatchedParts: [{ partNumber: 3, reason: `the parts hold ${20 * MiB + 4} bytes; the upload declared ${20 * MiB + 3}` }] },
    });
    // 10 MiB takes at most 2 parts: a short part 2 leaves no part number for the rest.
    expect(codeOf(() => checkParts({ size: 10 * MiB, partSize: 5 * MiB, partCount: 2 }, layout(5 * MiB, MiB)))).toEqual({
      code: 'part_mismatch',
      extra: { mismatchedParts: [{ partNumber: 2, reason: `the parts hold ${6 * MiB} bytes; the upload declared ${10 * MiB}` }] },
    });
  });

  it('refuses a part beyond the most a file of its size has', () => {
    const result = codeOf(() => checkParts({ size: 10 * MiB, partSize: 5 * MiB, partCount: 2 }, [part(1, 5 * MiB), part(2, 5 * MiB), part(3, 0)])) as {
      code: string;
      extra: { mismatchedParts: Array<{ partNumber: number; reason: string }> };
    };
    expect(result.code).toBe('part_mismatch');
    expect(result.extra.mismatchedParts).toEqual([{ partNumber: 3, reason: 'beyond part 2, the most a file of 10485760 bytes has' }]);
  });

  it('reports ETags that disagree with storage', () => {
    const result = codeOf(() =>
      checkParts(file, layout(8 * MiB, 8 * MiB, 4 * MiB + 3), [
        { partNumber: 3, etag: '"other"' },
        { partNumber: 2, etag: '"e2"' },
      ]),
    );
    expect(result).toEqual({ code: 'part_mismatch', extra: { mismatchedParts: [{ partNumber: 3, reason: 'ETag differs from storage' }] } });
  });
});
