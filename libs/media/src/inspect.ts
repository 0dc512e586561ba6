import type { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { OffThreadSha256 } from './sha256-off-thread';
import { sniffTextType, XML_TYPE } from './text-types';

/**
 * Leading bytes kept for detection: file-type needs 4,100; text formats get more, since an SVG's
 * root may follow a long XML prolog (an editor's doctype, a licence comment).
 */
const SNIFF_BYTES = 16 * 1024;

export interface Inspection {
  /** Bytes actually read. */
  size: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
  /**
   * MIME type from magic bytes, or for text from its markup: image/svg+xml, text/html,
   * application/xml, or text/plain for text without markup (CSV, JSON...); null for a binary
   * format nothing recognises.
   */
  detectedType: string | null;
}

/**
 * Reads a stream once, never holding it whole: hashes every chunk (on a worker thread, so the hash
 * overlaps the read) and keeps only the first bytes for detection, so a 100 GiB file costs its
 * reading time and a few MiB of memory.
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
  const sample = Buffer.concat(head);
  const [sha256, detected] = await Promise.all([hash.digest(), fileTypeFromBuffer(sample)]);
  return { size, sha256, detectedType: detectType(sample, detected?.mime ?? null) };
}

/**
 * file-type names binary formats by magic bytes, and XML only by its `<?xml` line; what the
 * markup is (SVG, HTML, any XML), and whether signature-less bytes are text, is sniffed here.
 */
function detectType(sample: Buffer, magic: string | null): string | null {
  if (magic !== null && magic !== XML_TYPE) return magic;
  return sniffTextType(sample) ?? magic;
}
