import { DomainError, MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from '@app/contracts';

export type UploadPlan = { mode: 'single' } | { mode: 'multipart'; partSize: number; partCount: number };

const MiB = 1024 ** 2;

/**
 * Single PUT up to the threshold; beyond it, parts of at least `minPartBytes`, grown (in whole
 * MiB) until the file fits in 10,000 parts, so the largest object S3 stores (5 TiB) always fits
 * and parts stay within S3's 5 MiB-5 GiB.
 *
 * A part size the client declares (already checked by `partSizeProblem`) replaces the plan's and
 * always means parts, whatever the threshold: the client has chosen to send parts. Either way the
 * plan is advice: completion checks the parts storage holds (`checkParts`), not the plan (#14).
 */
export function planUpload(size: number, options: { multipartThresholdBytes: number; minPartBytes: number; partSize?: number }): UploadPlan {
  if (options.partSize !== undefined && size > 0) return { mode: 'multipart', partSize: options.partSize, partCount: Math.ceil(size / options.partSize) };
  if (size === 0 || size <= options.multipartThresholdBytes) return { mode: 'single' };
  const floor = Math.max(options.minPartBytes, MIN_PART_BYTES);
  const needed = Math.ceil(size / MAX_PARTS);
  const partSize = Math.min(MAX_PART_BYTES, Math.max(floor, Math.ceil(needed / MiB) * MiB));
  const partCount = Math.ceil(size / partSize);
  if (partCount > MAX_PARTS) throw new Error(`a file of ${size} bytes cannot be uploaded in ${MAX_PARTS} parts of at most ${MAX_PART_BYTES} bytes`);
  return { mode: 'multipart', partSize, partCount };
}

/** Why a client's part size cannot carry a file of `size` bytes, or null when it can. */
export function partSizeProblem(size: number, partSize: number): string | null {
  if (size === 0) return 'an empty file is sent with one PUT: declare no part size';
  if (partSize < MIN_PART_BYTES || partSize > MAX_PART_BYTES) return `must be between ${MIN_PART_BYTES} and ${MAX_PART_BYTES} bytes`;
  if (Math.ceil(size / partSize) > MAX_PARTS) return `makes ${Math.ceil(size / partSize)} parts of this file; at most ${MAX_PARTS} are allowed`;
  return null;
}

/**
 * The highest part number any valid layout of `size` bytes can use: every part but the last holds
 * at least 5 MiB, so no layout has more than ceil(size / 5 MiB) parts (and S3 takes 10,000).
 * Signing accepts any number up to this, so a client may choose its own part size.
 */
export function maxPartNumber(size: number): number {
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(size / MIN_PART_BYTES)));
}

/** Size of part n (1-based): every part is partSize but the last, which holds the remainder. */
export function expectedPartSize(size: number, partSize: number, partNumber: number): number {
  const partCount = Math.ceil(size / partSize);
  return partNumber < partCount ? partSize : size - partSize * (partCount - 1);
}

type Stored = { partNumber: number; size: number; etag: string };

/**
 * Whether the parts storage holds make the file, in whatever part size the client chose: parts
 * 1..k with none missing, every part but the last at least 5 MiB (S3 refuses smaller ones at
 * completion), the sizes adding up to the declared size, and any ETag the client sent matching
 * storage's. The plan (`partSize`) only names the parts still to send when the file is short.
 */
export function checkParts(
  file: { size: bigint | number; partSize: bigint | number | null; partCount: number | null },
  stored: readonly Stored[],
  given?: ReadonlyArray<{ partNumber: number; etag: string }>,
): void {
  const size = Number(file.size);
  const parts = [...stored].sort((a, b) => a.partNumber - b.partNumber);
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  const missing = missingParts(size, Number(file.partSize ?? MIN_PART_BYTES), parts, total);
  if (missing.length) {
    throw new DomainError('parts_missing', `${missing.length} part(s) are not in storage: the parts stored hold ${total} of ${size} bytes.`, {
      missingParts: missing.slice(0, 1_000),
      missingCount: missing.length,
      missingBytes: Math.max(0, size - total),
    });
  }

  const mismatched: Array<{ partNumber: number; reason: string }> = [];
  const last = parts.at(-1)!;
  const highest = maxPartNumber(size);
  for (const part of parts) {
    if (part.partNumber > highest) mismatched.push({ partNumber: part.partNumber, reason: `beyond part ${highest}, the most a file of ${size} bytes has` });
    else if (part !== last && part.size < MIN_PART_BYTES) {
      mismatched.push({ partNumber: part.partNumber, reason: `size ${part.size}: every part but the last must hold at least ${MIN_PART_BYTES} bytes` });
    }
  }
  // Short with no part left to name: the layout cannot reach the size (its last number is the highest allowed).
  if (total !== size) mismatched.push({ partNumber: last.partNumber, reason: `the parts hold ${total} bytes; the upload declared ${size}` });
  const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
  for (const g of given ?? []) {
    const p = byNumber.get(g.partNumber);
    if (p && p.etag !== g.etag.replace(/"/g, '')) mismatched.push({ partNumber: g.partNumber, reason: 'ETag differs from storage' });
  }
  if (mismatched.length)
    throw new DomainError('part_mismatch', `${mismatched.length} part(s) disagree with storage.`, { mismatchedParts: mismatched.slice(0, 1_000) });
}

/**
 * Gaps below the highest stored part and, when the bytes fall short, the parts after it, counted
 * in the layout in use: the largest stored part (a client's own part size) or else the plan's.
 */
function missingParts(size: number, planPartSize: number, parts: readonly Stored[], total: number): number[] {
  const highestStored = parts.at(-1)?.partNumber ?? 0;
  const have = new Set(parts.map((p) => p.partNumber));
  const missing: number[] = [];
  for (let n = 1; n < highestStored; n++) if (!have.has(n)) missing.push(n);
  if (total < size || parts.length === 0) {
    const unit = parts.length ? parts.reduce((max, p) => Math.max(max, p.size), MIN_PART_BYTES) : planPartSize;
    const count = Math.min(maxPartNumber(size), Math.max(highestStored + 1, Math.ceil(size / unit)));
    for (let n = highestStored + 1; n <= count; n++) missing.push(n);
  }
  return missing;
}
