import { Change, ChangeFeed } from './changes';

const change = (seq: number): Change => ({ cursor: String(seq), type: 'file.ready', fileId: null, at: new Date(0).toISOString(), data: {} });

/** A server holding changes 1..last: each connection gets the backlog after its cursor. */
class FakeServer {
  last = 3;
  /** Upgrades are refused (the socket closes before it opens), as for an expired cursor. */
  refusing = false;
  readonly urls: string[] = [];
  readonly sockets: FakeSocket[] = [];
  readonly Socket = socketClassOf(this);
}

function socketClassOf(server: FakeServer) {
  return class extends FakeSocket {
    constructor(url: string) {
      super();
      server.urls.push(url);
      server.sockets.push(this);
      const after = Number(new URL(url).searchParams.get('cursor') ?? 0);
      if (server.refusing) {
        setTimeout(() => this.close(1006), 1);
        return;
      }
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
        for (let seq = after + 1; seq <= server.last; seq++) this.onmessage?.({ data: JSON.stringify({ type: 'change', change: change(seq) }) });
      }, 1);
    }
  };
}

class FakeSocket {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason }), 1);
  }
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!what()) throw new Error('timed out');
};

describe('ChangeFeed', () => {
  it('hands changes over one at a time and in order, moving its cursor only past handled ones', async () => {
    const server = new FakeServer();
    const handled: string[] = [];
    let failOnce = true;
    const feed = new ChangeFeed({
      baseUrl: 'http://sync.test',
      token: 't0k',
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      WebSocket: server.Socket,
      onChange: async (c) => {
        await new Promise((r) => setTimeout(r, 1));
        if (c.cursor === '2' && failOnce) {
          failOnce = false;
          throw new Error('the app could not apply it');
        }
        handled.push(c.cursor);
      },
    });
    feed.start();
    await until(() => handled.length === 3);
    await feed.stop();
    // The failed change came again on a new connection that resumed after the last handled one.
    expect(handled).toEqual(['1', '2', '3']);
    expect(server.urls.map((u) => new URL(u).searchParams.get('cursor'))).toEqual([null, '1']);
    expect(new URL(server.urls[0]).protocol).toBe('ws:');
    expect(new URL(server.urls[0]).searchParams.get('access_token')).toBe('t0k');
    expect(feed.cursor).toBe('3');
  });

  it('reconnects from its cursor after the server goes away, and asks the app when the cursor expired', async () => {
    const server = new FakeServer();
    const handled: string[] = [];
    const expired = jest.fn(() => '2');
    let expiredNow = false;
    const fetchFake = jest.fn(async () => new Response(null, { status: expiredNow ? 410 : 200 }));
    const feed = new ChangeFeed({
      baseUrl: 'https://sync.test',
      token: async () => 'fresh',
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      WebSocket: server.Socket,
      fetch: fetchFake,
      onChange: (c) => void handled.push(c.cursor),
      onCursorExpired: expired,
    });
    feed.start();
    await until(() => handled.length === 3);
    // The server goes away; meanwhile retention drops what the cursor points after.
    expiredNow = true;
    server.refusing = true;
    server.last = 5;
    server.sockets[0].close(1001, 'going away');
    await until(() => expired.mock.calls.length === 1);
    expiredNow = false;
    server.refusing = false;
    await until(() => handled.length === 6);
    await feed.stop();
    expect(handled).toEqual(['1', '2', '3', '3', '4', '5']); // from cursor 2, as the app chose
    expect(new URL(server.urls[server.urls.length - 1]).protocol).toBe('wss:');
  });
});
