import { backoffDelay, RetryPolicy, sleep } from './retry';

/** One change of the owner's feed (api-v1.md, Changes). `cursor` is opaque: store it, never compare it. */
export interface Change {
  cursor: string;
  type: string;
  fileId: string | null;
  at: string;
  data: Record<string, unknown>;
}

/** The minimal WebSocket this client needs: the browser's, Node's global one, or `ws`. */
interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ChangeFeedOptions {
  /** sync-notifier's base URL (the same host as the API behind the ingress). */
  baseUrl: string;
  /** A user token; a function is called at every (re)connection, so it can refresh. */
  token: string | (() => string | Promise<string>);
  /** Where to continue (a cursor saved earlier); absent: the whole retained history. */
  cursor?: string;
  /**
   * Called for each change, one at a time and in order; the next waits for it to finish, and the
   * cursor moves on only once it succeeded. Save `change.cursor` wherever the app keeps state.
   */
  onChange(change: Change): void | Promise<void>;
  /**
   * The saved cursor is older than what the feed retains: the app must reload its files list.
   * Resolve with where to continue (absent: from the start of what is retained).
   */
  onCursorExpired?(): void | string | Promise<void | string>;
  /** Connection state, for a UI: connected, or disconnected and retrying. */
  onStatus?(status: 'connected' | 'reconnecting', detail?: { code?: number; attempt?: number }): void;
  /** Reconnection backoff (full jitter); defaults: 500 ms doubling to 30 s, forever. */
  retry?: Partial<Omit<RetryPolicy, 'attempts'>>;
  /** Injected WebSocket constructor; the global one by default (browsers, Node >= 22). */
  WebSocket?: new (url: string) => SocketLike;
  /** Injected fetch, for the expired-cursor check; the global fetch by default. */
  fetch?: typeof fetch;
}

const OPEN = 1;
const ACK_EVERY = 50;

/**
 * Follows an owner's change feed over /v1/sync: the backlog after the cursor, then live changes,
 * each delivered once and in order to `onChange`, however often the connection drops. It
 * reconnects with backoff from the last cursor handled (a replica going away, a network change,
 * a slow-consumer cut-off), acknowledges progress, and when the server refuses the cursor as
 * expired asks the app where to start again.
 *
 *   const feed = new ChangeFeed({ baseUrl, token, cursor: saved, onChange: async (c) => { apply(c); save(c.cursor); } });
 *   feed.start();  ...  await feed.stop();
 */
export class ChangeFeed {
  private socket: SocketLike | null = null;
  private stopped = true;
  private cursorValue: string | undefined;
  private handled = 0;
  private queue: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private readonly retry: Omit<RetryPolicy, 'attempts'>;

  constructor(private readonly options: ChangeFeedOptions) {
    this.cursorValue = options.cursor;
    this.retry = { baseDelayMs: 500, maxDelayMs: 30_000, ...options.retry };
  }

  /** The last cursor whose change `onChange` handled. */
  get cursor(): string | undefined {
    return this.cursorValue;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  /** Closes the connection; resolves once the change being handled (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.socket?.close(1000, 'client stopped');
    this.wake?.();
    await this.queue;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const closed = await this.connect();
      if (this.stopped) break;
      if (closed.opened) attempt = 0;
      attempt++;
      this.options.onStatus?.('reconnecting', { code: closed.code, attempt });
      // A refused upgrade cannot be read from a browser's WebSocket: ask the feed over HTTP why.
      if (!closed.opened && (await this.cursorExpired())) {
        const from = await this.options.onCursorExpired?.();
        this.cursorValue = typeof from === 'string' ? from : undefined;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(backoffDelay(attempt, { ...this.retry, attempts: Infinity })).then(resolve);
      });
      this.wake = null;
    }
  }

  /** One connection, until it closes: whether it opened, and its close code. */
  private async connect(): Promise<{ opened: boolean; code: number }> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const url = new URL('/v1/sync', this.options.baseUrl.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', token);
    if (this.cursorValue) url.searchParams.set('cursor', this.cursorValue);
    const Socket = this.options.WebSocket ?? (globalThis as unknown as { WebSocket: new (url: string) => SocketLike }).WebSocket;
    return new Promise((resolve) => {
      let opened = false;
      const socket = new Socket(url.toString());
      this.socket = socket;
      socket.onopen = () => {
        opened = true;
        this.options.onStatus?.('connected');
      };
      socket.onmessage = (event) => {
        const message = parse(event.data);
        if (message?.type !== 'change' || !message.change) return;
        const change = message.change;
        // One at a time, in arrival order; a failing handler drops the connection, so the change
        // comes again from the last cursor handled.
        this.queue = this.queue.then(async () => {
          if (this.stopped || this.socket !== socket) return;
          try {
            await this.options.onChange(change);
          } catch {
            socket.close(4000, 'change handler failed');
            this.socket = null;
            return;
          }
          this.cursorValue = change.cursor;
          if (++this.handled % ACK_EVERY === 0 && socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'ack', cursor: change.cursor }));
        });
      };
      socket.onerror = () => undefined; // followed by close
      socket.onclose = (event) => {
        void this.queue.then(() => resolve({ opened, code: event.code }));
      };
    });
  }

  private async cursorExpired(): Promise<boolean> {
    if (!this.cursorValue) return false;
    try {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      const res = await (this.options.fetch ?? fetch)(new URL(`/v1/changes?limit=1&cursor=${encodeURIComponent(this.cursorValue)}`, this.options.baseUrl), {
        headers: { authorization: `Bearer ${token}` },
      });
      return res.status === 410;
    } catch {
      return false;
    }
  }
}

function parse(data: unknown): { type?: string; change?: Change } | null {
  try {
    return JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer)) as { type?: string; change?: Change };
  } catch {
    return null;
  }
}
