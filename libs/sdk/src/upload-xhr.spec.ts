import { UploadProgress } from './progress';
import { fromBytes } from './sources';
import { bytes, fakePlatform, MiB } from './testing/fake-platform';
import { XhrLike } from './transport';

/** Values only ever grow. */
const monotonic = (values: number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]);

/** A scripted XMLHttpRequest: sends the body in `steps` progress events, then answers `status`. */
function fakeXhr(opts: { steps: number; status?: (n: number) => number }) {
  const sent: Array<{ url: string; headers: Record<string, string>; body: Uint8Array }> = [];
  let aborts = 0;
  class FakeXhr implements XhrLike {
    status = 0;
    private url = '';
    private readonly headers: Record<string, string> = {};
    private readonly listeners = new Map<string, Array<(event: { loaded: number }) => void>>();
    private done = false;
    readonly upload = { addEventListener: (type: 'progress', l: (event: { loaded: number }) => void) => this.on(`upload.${type}`, l) };
    open(_method: string, url: string) {
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    getResponseHeader(name: string) {
      return name === 'etag' ? `"xhr-etag-${/part\/(\d+)/.exec(this.url)![1]}"` : null;
    }
    addEventListener(type: string, l: () => void) {
      this.on(type, l);
    }
    send(body: Uint8Array<ArrayBuffer>) {
      sent.push({ url: this.url, headers: this.headers, body });
      void (async () => {
        for (let i = 1; i <= opts.steps; i++) {
          await new Promise((r) => setTimeout(r, 1));
          if (this.done) return;
          this.fire('upload.progress', Math.round((body.byteLength * i) / opts.steps));
        }
        if (this.done) return;
        this.done = true;
        this.status = opts.status?.(Number(/part\/(\d+)/.exec(this.url)![1])) ?? 200;
        this.fire('load', 0);
      })();
    }
    abort() {
      if (this.done) return;
      this.done = true;
      aborts++;
      this.fire('abort', 0);
    }
    private on(type: string, l: (event: { loaded: number }) => void) {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
    }
    private fire(type: string, loaded: number) {
      for (const l of this.listeners.get(type) ?? []) l({ loaded });
    }
  }
  return { FakeXhr, sent, aborts: () => aborts };
}

describe('byte-level progress through XMLHttpRequest (browsers)', () => {
  it('follows upload progress events, sends the signed headers a script may set, and completes with the ETags it read', async () => {
    const size = 3 * MiB;
    const xhr = fakeXhr({ steps: 8 });
    const platform = fakePlatform({
      size,
      partSize: MiB,
      partHeaders: { 'content-length': String(MiB), 'x-amz-checksum-sha256': 'c2lnbmVk=' },
      client: { XMLHttpRequest: xhr.FakeXhr },
    });
    const events: UploadProgress[] = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), { filename: 'f', progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    expect(platform.puts()).toHaveLength(0); // storage was reached through XHR, not fetch
    expect(xhr.sent).toHaveLength(3);
    for (const s of xhr.sent) {
      // The browser sets Content-Length from the body and refuses it from a script.
      expect(s.headers).toEqual({ 'x-amz-checksum-sha256': 'c2lnbmVk=' });
    }
    const values = events.map((e) => e.bytesUploaded);
    expect(monotonic(values)).toBe(true);
    expect(events.length).toBeGreaterThan(3 * 4);
    expect(values.at(-1)).toBe(size);
    const complete = platform.calls.find((c) => c.url.endsWith('/complete'))!;
    expect((complete.body as { parts: Array<{ etag: string }> }).parts.map((p) => p.etag)).toEqual(['xhr-etag-1', 'xhr-etag-2', 'xhr-etag-3']);
  });

  it('retries a part storage refused without counting it twice, and aborts the request in flight on pause', async () => {
    const size = 2 * MiB;
    let refused = 0;
    const xhr = fakeXhr({ steps: 4, status: (n) => (n === 2 && refused++ === 0 ? 503 : 200) });
    const platform = fakePlatform({
      size,
      partSize: MiB,
      partHeaders: { 'content-length': String(MiB), 'x-amz-checksum-sha256': 'c2lnbmVk=' },
      client: { XMLHttpRequest: xhr.FakeXhr },
    });
    const events: UploadProgress[] = [];
    const upload = platform.client.upload(fromBytes(bytes(size)), { filename: 'f', concurrency: 1, progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    await expect(upload.done).resolves.toMatchObject({ status: 'completing' });
    expect(xhr.sent.filter((s) => s.url.includes('/part/2'))).toHaveLength(2);
    const values = events.map((e) => e.bytesUploaded);
    expect(monotonic(values)).toBe(true);
    // The refused attempt had sent all its bytes: the count held just below the total, which it
    // reached only once storage acknowledged the retry.
    expect(values).toContain(size - 1);
    expect(events.filter((e) => e.bytesUploaded === size)).toEqual([{ bytesUploaded: size, totalBytes: size, partsDone: 2, partCount: 2 }]);

    const slow = fakeXhr({ steps: 50 });
    const paused = fakePlatform({ size: MiB, partSize: MiB, client: { XMLHttpRequest: slow.FakeXhr } });
    const second = paused.client.upload(fromBytes(bytes(MiB)), { filename: 'f' });
    while (slow.sent.length === 0) await new Promise((r) => setTimeout(r, 1));
    second.pause();
    expect(slow.aborts()).toBe(1);
    second.resume();
    await expect(second.done).resolves.toMatchObject({ status: 'completing' });
  });
});
