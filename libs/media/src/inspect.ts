import type { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { OffThreadSha256 } from './sha256-off-thread';

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
 * Reads a stream once, never holding it whole: hashes every chunk (on a worker thread, so the hash
 * overlaps the read) and keeps only the first bytes for magic-byte detection (file-type), so a
 * 100 GiB file costs its reading time and a few MiB of memory.
 */
export async function inspect(stream: Readable): Promise<Inspection> {
  const hash = new OffThreadSha256();
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (headBytes < SNIFF_BYTES) {
        const piece = Buffer.from(chunk.subarray(0, SNIFF_BYTES - headBytes)); // a copy: the chunk goes to the hasher
        head.push(piece);
        headBytes += piece.length;
      }
      await hash.take(chunk);
    }
  } catch (error) {
    hash.dispose();
    throw error;
  }
  const [sha256, detected] = await Promise.all([hash.digest(), fileTypeFromBuffer(Buffer.concat(head))]);
  return { size, sha256, detectedType: detected?.mime ?? null };
}
