import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CredentialsService, ownerScopeOf } from '@app/auth';
import type { OwnerScope } from '@app/auth';
import { APP_CONFIG } from '@app/config';
import type { SyncEnv } from '@app/config';
import { cursorParam, DomainError, ErrorCode, SYNC_CLOSE, SYNC_PATH, syncClientMessage } from '@app/contracts';
import type { ChangeMessage, SyncServerMessage } from '@app/contracts';
import { PROBLEM_CONTENT_TYPE, problemOf } from '@app/http';
import { MetricsService } from '@app/observability';
import { ChangeHub, NoticeListener } from './change-hub.service';
import { FeedService } from './feed.service';
import { OwnerSlots } from './owner-slots';

const PAGE = 500;

/** What a session reports to its gateway (metrics, logs). */
export interface SessionHooks {
  /** Reading or sending failed: the gateway closes the socket. */
  onError(error: unknown): void;
  onSlowConsumer?(): void;
  onSent?(): void;
}

/**
 * One device's session: the backlog after its cursor, then live changes, in order and each once.
 * Live notices are used directly when they follow what was sent; a gap (a notice lost or
 * overtaken) or a catch-up signal reads the database from the last sent cursor instead.
 */
export class DeviceSession {
  sentSeq: bigint;
  /** Answered since the last heartbeat (a pong, or an ack). */
  alive = true;
  private reading = false;
  private readAgain = false;

  constructor(
    readonly ws: WebSocket,
    readonly scope: OwnerScope,
    after: bigint,
    private readonly feed: FeedService,
    private readonly maxBuffered: number,
    private readonly hooks: SessionHooks,
  ) {
    this.sentSeq = after;
  }

  readonly notice: NoticeListener = (notice) => {
    if (notice && !this.reading) {
      const seq = BigInt(notice.change.cursor);
      if (seq <= this.sentSeq) return; // already sent (by a read that overtook the notice)
      if (seq === this.sentSeq + 1n) return void this.send(seq, changeFrame(notice.change));
    }
    void this.catchUp();
  };

  /**
   * A message from the device. An ack of a cursor it was sent is proof of life, like a pong;
   * progress itself needs no server state (a device resumes from the cursor it reconnects with).
   * Anything else is ignored.
   */
  receive(text: string | null): void {
    const message = syncClientMessage.safeParse(text === null ? null : safeJson(text));
    if (message.success && BigInt(message.data.cursor) <= this.sentSeq) this.alive = true;
  }

  /** Reads and sends everything after the last sent cursor; coalesces calls made meanwhile. */
  async catchUp(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        for (;;) {
          if (this.ws.readyState !== WebSocket.OPEN) return;
          const page = await this.feed.page(this.scope, this.sentSeq, PAGE);
          for (const change of page.changes) if (!this.send(BigInt(change.cursor), changeFrame(change))) return;
          if (page.changes.length < PAGE) break;
          await this.drained();
        }
      } while (this.readAgain);
    } catch (error) {
      this.hooks.onError(error);
    } finally {
      this.reading = false;
    }
  }

  /** Sends, unless the device has fallen too far behind: then it is let go to resume later. */
  private send(seq: bigint, message: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.hooks.onSlowConsumer?.();
      this.ws.close(SYNC_CLOSE.slowConsumer.code, SYNC_CLOSE.slowConsumer.reason);
      // A peer that does not read does not complete the closing handshake either.
      setTimeout(() => this.ws.terminate(), 5_000).unref();
      return false;
    }
    this.ws.send(message);
    this.sentSeq = seq;
    this.hooks.onSent?.();
    return true;
  }

  /** Between backlog pages: wait for the socket to take what was sent (bounded by the slow-consumer rule). */
  private async drained(): Promise<void> {
    for (let i = 0; i < 200 && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount > this.maxBuffered / 4; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/**
 * GET /v1/sync (WebSocket, `ws` on the service's own HTTP server): authenticate at the upgrade
 * with a user token (Authorization header or `access_token`), send the backlog after `cursor`,
 * then live changes. Pings every SYNC_HEARTBEAT_SECONDS drop peers that stopped answering; a
 * device that does not read is disconnected past SYNC_MAX_BUFFERED_BYTES instead of growing
 * this process; SYNC_MAX_CONNECTIONS_PER_OWNER caps one owner's connections on a replica
 * (OwnerSlots, shared with long-polls). On
 * shutdown every device is told to go (1001) and reconnects to another replica with its cursor.
 */
@Injectable()
export class SyncGateway implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SyncGateway.name);
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024, clientTracking: false });
  private readonly sessions = new Set<DeviceSession>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly connectedGauge;
  private readonly sentCounter;
  private readonly droppedCounter;
  private readonly refusedCounter;
  private closing = false;

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly credentials: CredentialsService,
    private readonly feed: FeedService,
    private readonly hub: ChangeHub,
    @Inject(APP_CONFIG) private readonly config: SyncEnv,
    private readonly slots: OwnerSlots,
    metrics: MetricsService,
  ) {
    this.connectedGauge = metrics.gauge('sync_connections', 'Devices connected to this replica by WebSocket');
    this.sentCounter = metrics.counter('sync_changes_sent_total', 'Changes sent to devices');
    this.droppedCounter = metrics.counter('sync_disconnects_total', 'Devices this replica disconnected, by reason', ['reason']);
    this.refusedCounter = metrics.counter('sync_upgrades_refused_total', 'WebSocket upgrades refused, by problem code', ['code']);
  }

  get connections(): number {
    return this.sessions.size;
  }

  onApplicationBootstrap(): void {
    const server = this.adapter.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(request, socket, head));
    this.heartbeat = setInterval(() => this.beat(), this.config.SYNC_HEARTBEAT_SECONDS * 1000);
    this.heartbeat.unref();
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const session of this.sessions) session.ws.close(SYNC_CLOSE.goingAway.code, SYNC_CLOSE.goingAway.reason);
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== SYNC_PATH) return this.refuse(socket, 'not_found', 'No WebSocket here; use /v1/sync.');
    const handshake = handshakeProblem(request);
    if (handshake) return this.refuse(socket, 'validation_failed', handshake);
    if (this.closing) return this.refuse(socket, 'dependency_unavailable', 'Shutting down; connect to another replica.');
    let scope: OwnerScope;
    let after: bigint;
    try {
      const token = url.searchParams.get('access_token');
      const principal = await this.credentials.authenticate(token ? `Bearer ${token}` : request.headers.authorization);
      if (!principal) throw new DomainError('unauthorized', 'Send a user token in Authorization or access_token.');
      scope = ownerScopeOf(principal, request.headers['x-owner-id']);
      const cursor = url.searchParams.get('cursor') ?? undefined;
      if (cursor !== undefined && !cursorParam.safeParse(cursor).success)
        throw new DomainError('validation_failed', 'cursor must be one this feed returned.', { errors: [{ field: 'cursor', message: 'is malformed' }] });
      after = await this.feed.start(scope, cursor);
    } catch (error) {
      if (error instanceof DomainError) return this.refuse(socket, error.code, error.message, error.extra);
      this.logger.error({ err: error }, 'WebSocket upgrade failed');
      return this.refuse(socket, 'internal_error', 'The connection could not be set up.');
    }
    const release = this.slots.take(scope);
    if (!release) {
      return this.refuse(socket, 'too_many_connections', `At most ${this.slots.limit} devices of one owner may be connected here.`);
    }
    // The slot is the socket's from here until it closes, whatever ends it: a handshake `ws`
    // refuses without calling back, a device that leaves, a server that drops it.
    socket.once('close', release);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws, scope, after));
  }

  private attach(ws: WebSocket, scope: OwnerScope, after: bigint): void {
    const session = new DeviceSession(ws, scope, after, this.feed, this.config.SYNC_MAX_BUFFERED_BYTES, {
      onError: (error) => {
        this.logger.warn({ err: error }, 'sending changes failed; the device reconnects');
        this.droppedCounter.inc({ reason: 'error' });
        ws.close(SYNC_CLOSE.failed.code, SYNC_CLOSE.failed.reason);
      },
      onSlowConsumer: () => this.droppedCounter.inc({ reason: 'slow_consumer' }),
      onSent: () => this.sentCounter.inc(),
    });
    this.sessions.add(session);
    this.connectedGauge.set(this.sessions.size);
    const listening = this.hub.listen(scope.tenantId, scope.ownerId, session.notice);
    ws.on('pong', () => (session.alive = true));
    ws.on('message', (data: Buffer, isBinary) => session.receive(isBinary ? null : data.toString('utf8')));
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      listening.stop();
      this.sessions.delete(session);
      this.connectedGauge.set(this.sessions.size);
    });
    // The backlog is read once the owner's channel is subscribed: nothing falls between the two.
    void listening.ready.then(() => session.catchUp());
  }

  private refuse(socket: Duplex, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): void {
    this.refusedCounter.inc({ code });
    refuse(socket, code, detail, extra);
  }

  /** Drops devices that did not answer the previous ping, pings the rest. */
  private beat(): void {
    for (const session of this.sessions) {
      if (!session.alive) {
        this.droppedCounter.inc({ reason: 'heartbeat' });
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      session.ws.ping();
    }
  }
}

/**
 * What makes an upgrade request one `ws` would refuse (RFC 6455 section 4.2.1), found before any
 * work is done for it, so it is answered with a problem document like every other refusal.
 */
function handshakeProblem(request: IncomingMessage): string | null {
  if (request.method !== 'GET') return 'A WebSocket handshake is a GET.';
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return 'Upgrade must be websocket.';
  if (!/^[+/0-9A-Za-z]{22}==$/.test(request.headers['sec-websocket-key'] ?? '')) return 'Sec-WebSocket-Key must be 16 bytes in base64.';
  if (request.headers['sec-websocket-version'] !== '13' && request.headers['sec-websocket-version'] !== '8') return 'Sec-WebSocket-Version must be 13.';
  return null;
}

/** The text frame of one change (its shape is the contract's, api/sync-protocol.ts). */
export function changeFrame(change: ChangeMessage): string {
  const frame: SyncServerMessage = { type: 'change', change };
  return JSON.stringify(frame);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Answers a refused upgrade with a problem document, as the HTTP routes do, and closes. */
function refuse(socket: Duplex, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): void {
  const problem = problemOf(code, detail, extra);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
