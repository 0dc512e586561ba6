import { open } from 'node:fs/promises';
import type { UploadSource } from './sources';

// The package's Node entry (`@upload-platform/sdk/node`): everything of the main entry, plus what
// needs Node. The build keeps `./index` a separate module, so both entries share one copy of each
// class (an UploadApiError from one is `instanceof` the other's).
export * from './index';

/**
 * A file on disk, read one range at a time (never whole), for Node. Separate from the main entry
 * so browser bundles never see `node:fs`.
 */
export async function fromFile(path: string): Promise<UploadSource & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(start, end) {
      const buffer = new Uint8Array(end - start);
      let offset = 0;
      while (offset < buffer.length) {
        const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, start + offset);
        if (bytesRead === 0) throw new Error(`${path} ended at ${start + offset} bytes; expected ${size}`);
        offset += bytesRead;
      }
      return buffer;
    },
    close: () => handle.close(),
  };
}
