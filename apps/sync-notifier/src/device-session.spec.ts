import { WebSocket } from 'ws';
import { SYNC_CLOSE } from '@app/contracts';
import type { ChangeMessage } from '@app/contracts';
import type { FeedService } from './feed.service';
import { DeviceSession } from './sync.gateway';

const change = (seq: number): ChangeMessage => ({ cursor: String(seq), type: 'file.ready', fileId: null, at: new Date(0).toISOString(), data: { seq } });
const notice = (seq: number) => ({ tenantId: 't', ownerId: 'o', change: change(seq) });

/** A socket that records what it is sent and how much is waiting in its buffer. */
interface FakeSocket {
  readyState: number;
  bufferedAmount: number;
  send: jest.Mock;
  close: jest.Mock;
  terminate: jest.Mock;
}

function fakeSocket(): { ws: FakeSocket; sent: number[] } {
  const sent: number[] = [];
  const ws: FakeSocket = {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send: jest.fn((m: string) => sent.push(Number((JSON.parse(m) as { change: ChangeMessage }).change.cursor))),
    close: jest.fn((): void => {
      ws.readyState = WebSocket.CLOSING;
    }),
    terminate: jest.fn(),
  };
  return { ws, sent };
}

/** A feed holding changes 1..last. */
function fakeFeed(last: () => number) {
  const page = jest.fn(async (_scope: unknown, after: bigint, limit: number) => {
    const changes = Array.from({ length: Math.max(0, Math.min(limit, last() - Number(after))) }, (_, i) => change(Number(after) + i + 1));
    return { changes, cursor: changes.length ? changes[changes.length - 1].cursor : String(after) };
  });
  return { feed: { page } as unknown as FeedService, page };
}

describe('DeviceSession', () => {
  const scope = { tenantId: 't', ownerId: 'o' };

  it('sends the backlog after its cursor, then a notice that follows directly without reading the database', async () => {
    let last = 5;
    const { ws, sent } = fakeSocket();
    const { feed, page } = fakeFeed(() => last);
    const session = new DeviceSession(ws as unknown as WebSocket, scope, 2n, feed, 1 << 20, { onError: jest.fn() });
    await session.catchUp();
    expect(sent).toEqual([3, 4, 5]);
    last = 6;
    session.notice(notice(6));
    expect(sent).toEqual([3, 4, 5, 6]);
    expect(page).toHaveBeenCalledTimes(1);
  });

  it('ignores a notice already sent and reads the database on a gap, so nothing is skipped or doubled', async () => {
    let last = 3;
    const { ws, sent } = fakeSocket();
    const { feed } = fakeFeed(() => last);
    const session = new DeviceSession(ws as unknown as WebSocket, scope, 0n, feed, 1 << 20, { onError: jest.fn() });
    await session.catchUp();
    session.notice(notice(2)); // late duplicate
    last = 6;
    session.notice(notice(6)); // 4 and 5 were lost on the way
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
    session.notice(null); // the subscription was interrupted: catch up, finding nothing new
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('disconnects a device whose unsent bytes pass the limit instead of queueing more', async () => {
    const { ws, sent } = fakeSocket();
    const { feed } = fakeFeed(() => 10);
    const onSlowConsumer = jest.fn();
    const session = new DeviceSession(ws as unknown as WebSocket, scope, 0n, feed, 1000, { onError: jest.fn(), onSlowConsumer });
    ws.send.mockImplementation((m: string) => {
      sent.push(Number((JSON.parse(m) as { change: ChangeMessage }).change.cursor));
      ws.bufferedAmount += 400; // the peer reads nothing
    });
    await session.catchUp();
    expect(sent).toEqual([1, 2, 3]);
    expect(ws.close).toHaveBeenCalledWith(SYNC_CLOSE.slowConsumer.code, expect.stringMatching(/slow consumer/));
    expect(session.sentSeq).toBe(3n); // what it resumes after
    expect(onSlowConsumer).toHaveBeenCalledTimes(1);
  });

  it('takes an ack of a cursor it sent as an answer to the heartbeat, and nothing else', async () => {
    const { ws } = fakeSocket();
    const { feed } = fakeFeed(() => 2);
    const session = new DeviceSession(ws as unknown as WebSocket, scope, 0n, feed, 1 << 20, { onError: jest.fn() });
    await session.catchUp();
    for (const text of [null, 'not json', '{"type":"ack","cursor":"3"}', '{"type":"ack","cursor":"x"}', '{"type":"hello"}']) {
      session.alive = false;
      session.receive(text);
      expect(session.alive).toBe(false);
    }
    session.receive('{"type":"ack","cursor":"2"}');
    expect(session.alive).toBe(true);
  });
});
