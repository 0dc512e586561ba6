import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { VariantRecord, VariantRepository } from '@app/database';
import { KeyLayout, ObjectKeyParts, ObjectStorage } from '@app/storage';

/**
 * A variant's key names its bytes, so the object never changes: browsers and CDNs may keep it for
 * a year without asking again (RFC 8246). Its links still expire; the bytes behind them do not.
 */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Where derived objects are written and recorded (issue #15): under content-addressed keys, with
 * `Cache-Control: immutable`, and never leaving an orphan: a re-rendered variant whose bytes
 * differ gets a new key, and the object it replaces is deleted once no file shows it any more.
 */
@Injectable()
export class VariantStore {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly keys: KeyLayout,
    private readonly variants: VariantRepository,
  ) {}

  /** Writes a rendered variant held in memory; returns its key. */
  async write(parts: ObjectKeyParts, name: string, body: Uint8Array, contentType: string): Promise<string> {
    const key = this.keys.variantKey(parts, name, digest(createHash('sha256').update(body)));
    await this.storage.put(key, body, contentType, { cacheControl: IMMUTABLE });
    return key;
  }

  /** Writes a rendered variant from a local file (a transcode: read twice, hashed, then sent). */
  async writeFile(parts: ObjectKeyParts, name: string, path: string, contentType: string): Promise<{ key: string; size: number }> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const key = this.keys.variantKey(parts, name, digest(hash));
    const size = await this.storage.putFile(key, path, contentType, { cacheControl: IMMUTABLE });
    return { key, size };
  }

  /** Records the variant on the file, then releases the object of the one it replaced. */
  async record(fileId: string, variant: VariantRecord): Promise<void> {
    const previous = await this.variants.keyOf(fileId, variant.name);
    await this.variants.upsert(fileId, variant);
    await this.release(previous, variant.storageKey);
  }

  /** A replaced variant's object goes once no file shows it (an instant-upload copy may still). */
  async release(previousKey: string | null, currentKey: string): Promise<void> {
    if (previousKey && previousKey !== currentKey && !(await this.variants.isReferenced(previousKey))) await this.storage.delete(previousKey);
  }
}

function digest(hash: ReturnType<typeof createHash>): string {
  return hash.digest('hex').slice(0, 16);
}
