import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';

/** How many leading bytes magic-byte detection needs (file-type's own sample size). */
const SNIFF_BYTES = 4_100;

export interface Inspection {
  /** Bytes actually read. */
  size: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
  /** MIME type from magic bytes, or null where the format has none (plain text, CSV, JSON...). */
  detectedType: string | null;
}

/**
 * Reads a stream once, never holding it whole: hashes every chunk and keeps only the first bytes
 * for magic-byte detection (file-type), so a 100 GiB file costs its reading time and 4 KiB of memory.
 */
export async function inspect(stream: Readable): Promise<Inspection> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (headBytes < SNIFF_BYTES) {
      const piece = chunk.subarray(0, SNIFF_BYTES - headBytes);
      head.push(piece);
      headBytes += piece.length;
    }
  }
  const detected = await fileTypeFromBuffer(Buffer.concat(head));
  return { size, sha256: hash.digest('hex'), detectedType: detected?.mime ?? null };
}
