import { countingStream, storagePut, supportsRequestStreams, XhrLike } from './transport';

/** An XMLHttpRequest that answers 200 with an ETag at once, recording that it was used. */
function recordingXhr(used: string[], name: string) {
  return class implements XhrLike {
    status = 0;
    readonly upload = { addEventListener: () => undefined };
    private onLoad: () => void = () => undefined;
    open() {}
    setRequestHeader() {}
    getResponseHeader(header: string) {
      return header === 'etag' ? `"${name}"` : null;
    }
    addEventListener(type: string, listener: () => void) {
      if (type === 'load') this.onLoad = listener;
    }
    send() {
      used.push(name);
      this.status = 200;
      setTimeout(() => this.onLoad(), 0);
    }
    abort() {}
  };
}

describe('the storage transport', () => {
  const put = { url: 'https://storage.test/o', headers: {}, body: new Uint8Array(10), signal: new AbortController().signal, onBytesSent: () => undefined };
  const fetched: string[] = [];
  const fetchImpl = (async () => {
    fetched.push('fetch');
    return new Response(null, { status: 200, headers: { etag: '"f"' } });
  }) as typeof fetch;
  afterEach(() => {
    delete (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
    fetched.length = 0;
  });

  it("uses the runtime's XMLHttpRequest unless a fetch was injected, and an explicitly given one always", async () => {
    const used: string[] = [];
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = recordingXhr(used, 'global');
    await expect(storagePut({ fetch: fetchImpl, injectedFetch: false })(put)).resolves.toEqual({ status: 200, etag: '"global"' });
    await expect(storagePut({ fetch: fetchImpl, injectedFetch: true })(put)).resolves.toEqual({ status: 200, etag: '"f"' });
    await expect(storagePut({ fetch: fetchImpl, injectedFetch: true, XMLHttpRequest: recordingXhr(used, 'given') })(put)).resolves.toEqual({
      status: 200,
      etag: '"given"',
    });
    expect(used).toEqual(['global', 'given']);
    expect(fetched).toEqual(['fetch']);
  });

  it('streams through fetch where there is no XMLHttpRequest (Node supports request streams)', async () => {
    expect(supportsRequestStreams()).toBe(true);
    let init: (RequestInit & { duplex?: string }) | undefined;
    const capture = (async (_url: string, i: RequestInit) => {
      init = i;
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch;
    await storagePut({ fetch: capture, injectedFetch: true })(put);
    expect(init?.body).toBeInstanceOf(ReadableStream);
    expect(init).toMatchObject({ method: 'PUT', duplex: 'half', headers: { 'content-length': '10' } });
  });

  it('hands out the bytes one chunk per pull, counting what was pulled, with no read-ahead', async () => {
    const data = new Uint8Array(10).map((_, i) => i);
    const counted: number[] = [];
    const stream = countingStream(data, (n) => counted.push(n), 4);
    await new Promise((r) => setTimeout(r, 5));
    expect(counted).toEqual([]); // nothing pulled before the consumer reads
    const reader = stream.getReader();
    const chunks: number[][] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push([...r.value]);
    expect(chunks).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(counted).toEqual([4, 8, 10]);
  });
});
