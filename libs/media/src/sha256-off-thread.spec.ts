import { createHash, randomBytes } from 'node:crypto';
import { OffThreadSha256 } from './sha256-off-thread';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function hashInChunks(bytes: Buffer, chunk: number): Promise<string> {
  const hash = new OffThreadSha256();
  for (let offset = 0; offset < bytes.length; offset += chunk) await hash.take(bytes.subarray(offset, offset + chunk));
  return hash.digest();
}

describe('OffThreadSha256', () => {
  const bytes = randomBytes(20 * 1024 * 1024 + 123);

  it.each([1, 65_536, 1_048_576, 3_000_001])('hashes like node:crypto whatever the chunk size (%i bytes)', async (chunk) => {
    const data = chunk === 1 ? bytes.subarray(0, 5000) : bytes;
    expect(await hashInChunks(data, chunk)).toBe(sha256(data));
  });

  it('keeps concurrent sessions apart', async () => {
    const others = [randomBytes(3 << 20), randomBytes(17), Buffer.alloc(0)];
    const expected = [sha256(bytes), ...others.map(sha256)]; // before: whole buffers are taken over
    const digests = await Promise.all([hashInChunks(bytes, 65_536), ...others.map((b) => hashInChunks(b, 100_000))]);
    expect(digests).toEqual(expected);
  });

  it('makes the reader wait once 8 MiB are waiting for the worker, so memory stays bounded', async () => {
    const hash = new OffThreadSha256();
    const pending = hash.take(new Uint8Array(8 << 20)); // owns its buffer: transferred, not copied
    let settled = false;
    void pending.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false); // eight batches in flight: wait for the worker
    await pending;
    expect(settled).toBe(true);
    await hash.digest();
  });

  it('takes over a chunk that owns its buffer and copies one that does not', async () => {
    const owned = new Uint8Array(randomBytes(1000));
    const view = bytes.subarray(0, 10); // a view into a larger buffer
    const expected = sha256(Buffer.concat([owned, view]));
    const hash = new OffThreadSha256();
    await hash.take(owned);
    await hash.take(view);
    expect(await hash.digest()).toBe(expected);
    expect(owned.length).toBe(0); // detached: transferred to the worker
    expect(view.length).toBe(10); // copied: the caller's buffer is intact
  });

  it('forgets a disposed session without disturbing the others', async () => {
    const abandoned = new OffThreadSha256();
    await abandoned.take(randomBytes(2 << 20));
    abandoned.dispose();
    expect(await hashInChunks(bytes.subarray(0, 5 << 20), 65_536)).toBe(sha256(bytes.subarray(0, 5 << 20)));
  });
});
