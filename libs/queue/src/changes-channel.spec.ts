import { EventEmitter } from 'node:events';
import type { RedisConnection } from './redis';
import { ChangeNotice, RedisChangesChannel } from './changes-channel';

const notice: ChangeNotice = {
  tenantId: 't1',
  ownerId: 'o1',
  change: { cursor: 'c1', type: 'file.ready', fileId: 'f1', at: '2025-01-01T00:00:00.000Z', data: {} },
};

/** A subscriber connection without a server: the test plays Redis by emitting its events. */
class FakeSubscriber extends EventEmitter {
  readonly channels = new Set<string>();
  disconnected = false;
  refuse = false;

  ssubscribe(channel: string) {
    if (this.refuse) return Promise.reject(new Error('Connection is closed.'));
    this.channels.add(channel);
    return Promise.resolve(this.channels.size);
  }

  sunsubscribe(channel: string) {
    this.channels.delete(channel);
    return Promise.resolve(this.channels.size);
  }

  disconnect() {
    this.disconnected = true;
  }
}

function subscribed() {
  const connection = new FakeSubscriber();
  const channel = new RedisChangesChannel({} as RedisConnection, 'pfx', () => connection as unknown as RedisConnection);
  const notices: ChangeNotice[] = [];
  const onGap = jest.fn();
  const subscription = channel.subscribe((n) => notices.push(n), onGap);
  return { connection, notices, onGap, subscription };
}

describe('RedisChangesChannel.subscribe', () => {
  it("subscribes its own connection to each added owner's sharded channel (hash-tagged), and drops it when removed", async () => {
    const { connection, subscription } = subscribed();
    await subscription.add('t1', 'o1');
    await subscription.add('t2', 'o9');
    expect([...connection.channels]).toEqual(['pfx:changes:{t1:o1}', 'pfx:changes:{t2:o9}']);
    subscription.remove('t1', 'o1');
    expect([...connection.channels]).toEqual(['pfx:changes:{t2:o9}']);
  });

  it('resolves an add that Redis refused (logged), so a listener waiting on it reads the database anyway', async () => {
    const { connection, subscription } = subscribed();
    connection.refuse = true;
    await expect(subscription.add('t1', 'o1')).resolves.toBeUndefined();
  });

  it('hands on each sharded message parsed, and drops one that is not JSON', () => {
    const { connection, notices } = subscribed();
    connection.emit('smessage', 'pfx:changes:{t1:o1}', JSON.stringify(notice));
    connection.emit('smessage', 'pfx:changes:{t1:o1}', '{not json');
    expect(notices).toEqual([notice]);
  });

  it.each([
    ['the connection is ready again after it closed', 'close', ['ready', 'ready']],
    ["one of a cluster's sharded subscribers was lost and is back", '-subscriber', ['+subscriber', 'subscribersReady']],
  ])('reports one gap when %s, none before', (_, lost, back) => {
    const { connection, onGap } = subscribed();
    for (const event of back) connection.emit(event);
    expect(onGap).not.toHaveBeenCalled();
    connection.emit(lost);
    for (const event of back) connection.emit(event);
    expect(onGap).toHaveBeenCalledTimes(1);
  });

  it('closes its connection when closed', () => {
    const { connection, subscription } = subscribed();
    subscription.close();
    expect(connection.disconnected).toBe(true);
  });
});

describe('RedisChangesChannel.publish', () => {
  it("publishes each notice as JSON on its owner's sharded channel, all at once, and survives a refusal", async () => {
    const published: Array<[string, string]> = [];
    const redis = {
      spublish: (channel: string, message: string) => {
        published.push([channel, message]);
        return channel.includes('o3') ? Promise.reject(new Error('CLUSTERDOWN')) : Promise.resolve(1);
      },
    };
    const channel = new RedisChangesChannel(redis as unknown as RedisConnection, 'pfx', () => {
      throw new Error('publishing opens no subscriber');
    });
    await channel.publish([notice, { ...notice, ownerId: 'o2' }, { ...notice, ownerId: 'o3' }]);
    expect(published).toEqual([
      ['pfx:changes:{t1:o1}', JSON.stringify(notice)],
      ['pfx:changes:{t1:o2}', JSON.stringify({ ...notice, ownerId: 'o2' })],
      ['pfx:changes:{t1:o3}', JSON.stringify({ ...notice, ownerId: 'o3' })],
    ]);
  });
});
