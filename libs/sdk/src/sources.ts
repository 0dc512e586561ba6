/** Where the bytes come from: anything that can hand out byte ranges. Browser and Node alike. */
export interface UploadSource {
  readonly size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A browser File or Blob (also Node's Blob). Reads only the slice asked for. */
export function fromBlob(blob: Blob): UploadSource {
  return {
    size: blob.size,
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}

/** Bytes already in memory. */
export function fromBytes(bytes: Uint8Array): UploadSource {
  return {
    size: bytes.byteLength,
    read: (start, end) => Promise.resolve(bytes.subarray(start, end)),
  };
}
