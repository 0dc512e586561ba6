/**
 * Bytes from a seed (xorshift32), made the same in Node and in a browser page: a test hands the
 * page this very function (`seededBytes.toString()` in an init script), so large files need not
 * cross the DevTools protocol and the test can hash what the page sent. `size` a multiple of 4.
 * Self-contained on purpose: it runs in the page from its source text.
 */
export function seededBytes(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(size / 4);
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer);
}
