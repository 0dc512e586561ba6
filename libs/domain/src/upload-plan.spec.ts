import fc from 'fast-check';
import { MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from '@app/contracts';
import { DomainError } from '@app/contracts';
import { checkParts, expectedPartSize, planUpload } from './upload-plan';

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

describe('checkParts', () => {
  const MiB = 1024 ** 2;
  const file = { size: 20 * MiB + 3, partSize: 8 * MiB, partCount: 3 };
  const part = (partNumber: number, size: number, etag = `e${partNumber}`) => ({ partNumber, size, etag });
  const codeOf = (fn: () => void) => {
    try {
      fn();
      return null;
    } catch (e) {
      return e instanceof DomainError ? { code: e.code, extra: e.extra } : e;
    }
  };

  it('accepts exactly the planned parts', () => {
    expect(codeOf(() => checkParts(file, [part(1, 8 * MiB), part(2, 8 * MiB), part(3, 4 * MiB + 3)]))).toBeNull();
  });

  it('names the missing parts', () => {
    expect(codeOf(() => checkParts(file, [part(2, 8 * MiB)]))).toEqual({ code: 'parts_missing', extra: { missingParts: [1, 3], missingCount: 2 } });
  });

  it('reports parts of the wrong size and ETags that disagree with storage', () => {
    const result = codeOf(() => checkParts(file, [part(1, 8 * MiB), part(2, 7 * MiB), part(3, 4 * MiB + 3)], [{ partNumber: 3, etag: '"other"' }])) as {
      code: string;
      extra: { mismatchedParts: Array<{ partNumber: number }> };
    };
    expect(result.code).toBe('part_mismatch');
    expect(result.extra.mismatchedParts.map((p) => p.partNumber)).toEqual([2, 3]);
  });
});
