import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { ChangeNotice, RedisChangesChannel } from './changes-channel';

const notice: ChangeNotice = {
  tenantId: 't1',
  ownerId: 'o1',
  change: { cursor: 'c1', type: 'file.ready', fileId: 'f1', at: '2025-01-01T00:00:00.000Z', data: {} },
};

/** A subscriber connection without a server: the test plays Redis by emitting its events. */
class FakeSubscriber extends EventEmitter {
  readonly subscribed: string[] = [];
  disconnected = false;

  subscribe(channel: string) {
    this.subscribed.push(channel);
    return Promise.resolve(1);
  }

  disconnect() {
    this.disconnected = true;
  }
}

function subscribed() {
  const connection = new FakeSubscriber();
  const channel = new RedisChangesChannel({} as Redis, 'pfx', () => connection as unknown as Redis);
  const notices: ChangeNotice[] = [];
  const onGap = jest.fn();
  const close = channel.subscribe((n) => notices.push(n), onGap);
  return { connection, notices, onGap, close };
}

describe('RedisChangesChannel.subscribe', () => {
  it('subscribes its own connection to the prefixed channel and hands on each notice parsed', () => {
    const { connection, notices } = subscribed();
    expect(connection.subscribed).toEqual(['pfx:changes']);
    connection.emit('message', 'pfx:changes', JSON.stringify(notice));
    expect(notices).toEqual([notice]);
  });

  it('drops a message that is not JSON', () => {
    const { connection, notices } = subscribed();
    connection.emit('message', 'pfx:changes', '{not json');
    expect(notices).toEqual([]);
  });

  it('reports a gap when the connection is ready again after it closed, not on the first ready', () => {
    const { connection, onGap } = subscribed();
    connection.emit('ready');
    expect(onGap).not.toHaveBeenCalled();
    connection.emit('close');
    connection.emit('ready');
    connection.emit('ready');
    expect(onGap).toHaveBeenCalledTimes(1);
  });

  it('closes its connection when unsubscribed', () => {
    const { connection, close } = subscribed();
    close();
    expect(connection.disconnected).toBe(true);
  });
});

describe('RedisChangesChannel.publish', () => {
  it('publishes each notice as JSON on the prefixed channel in one pipeline', async () => {
    const published: Array<[string, string]> = [];
    const pipeline = { publish: (channel: string, message: string) => published.push([channel, message]), exec: () => Promise.resolve([[null, 1]]) };
    const channel = new RedisChangesChannel({ pipeline: () => pipeline } as unknown as Redis, 'pfx', () => {
      throw new Error('publishing opens no subscriber');
    });
    await channel.publish([notice, { ...notice, ownerId: 'o2' }]);
    expect(published).toEqual([
      ['pfx:changes', JSON.stringify(notice)],
      ['pfx:changes', JSON.stringify({ ...notice, ownerId: 'o2' })],
    ]);
  });
});
