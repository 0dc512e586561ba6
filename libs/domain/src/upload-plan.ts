import { DomainError, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from '@app/contracts';

export type UploadPlan = { mode: 'single' } | { mode: 'multipart'; partSize: number; partCount: number };

const MiB = 1024 ** 2;

/**
 * Single PUT up to the threshold; beyond it, parts of at least `minPartBytes`, grown (in whole
 * MiB) until the file fits in 10,000 parts, so the largest object S3 stores (5 TiB) always fits
 * and parts stay within S3's 5 MiB-5 GiB.
 */
export function planUpload(size: number, options: { multipartThresholdBytes: number; minPartBytes: number }): UploadPlan {
  if (size === 0 || size <= options.multipartThresholdBytes) return { mode: 'single' };
  const floor = Math.max(options.minPartBytes, MIN_PART_BYTES);
  const needed = Math.ceil(size / MAX_PARTS);
  const partSize = Math.min(MAX_PART_BYTES, Math.max(floor, Math.ceil(needed / MiB) * MiB));
  const partCount = Math.ceil(size / partSize);
  if (partCount > MAX_PARTS) throw new Error(`a file of ${size} bytes cannot be uploaded in ${MAX_PARTS} parts of at most ${MAX_PART_BYTES} bytes`);
  return { mode: 'multipart', partSize, partCount };
}

/** Size of part n (1-based): every part is partSize but the last, which holds the remainder. */
export function expectedPartSize(size: number, partSize: number, partNumber: number): number {
  const partCount = Math.ceil(size / partSize);
  return partNumber < partCount ? partSize : size - partSize * (partCount - 1);
}

/** Every planned part present, each of the planned size, and matching any ETag the client sent. */
export function checkParts(
  file: { size: bigint | number; partSize: bigint | number | null; partCount: number | null },
  stored: ReadonlyArray<{ partNumber: number; size: number; etag: string }>,
  given?: ReadonlyArray<{ partNumber: number; etag: string }>,
): void {
  const size = Number(file.size);
  const partSize = Number(file.partSize);
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const missing = Array.from({ length: file.partCount! }, (_, i) => i + 1).filter((n) => !byNumber.has(n));
  if (missing.length) {
    throw new DomainError('parts_missing', `${missing.length} of ${file.partCount} parts are not in storage.`, {
      missingParts: missing.slice(0, 1_000),
      missingCount: missing.length,
    });
  }
  const mismatched: Array<{ partNumber: number; reason: string }> = [];
  for (const part of stored) {
    if (part.partNumber > file.partCount!) mismatched.push({ partNumber: part.partNumber, reason: 'beyond the last part' });
    else if (part.size !== expectedPartSize(size, partSize, part.partNumber)) {
      mismatched.push({ partNumber: part.partNumber, reason: `size ${part.size}, expected ${expectedPartSize(size, partSize, part.partNumber)}` });
    }
  }
  for (const g of given ?? []) {
    const p = byNumber.get(g.partNumber);
    if (p && p.etag !== g.etag.replace(/"/g, '')) mismatched.push({ partNumber: g.partNumber, reason: 'ETag differs from storage' });
  }
  if (mismatched.length)
    throw new DomainError('part_mismatch', `${mismatched.length} part(s) disagree with storage.`, { mismatchedParts: mismatched.slice(0, 1_000) });
}
