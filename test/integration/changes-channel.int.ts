import { randomBytes } from 'node:crypto';
import { ChangeNotice, createRedis, RedisChangesChannel } from '@app/queue';
import { sleep, testConfig, until } from '@app/testing';

/** Sharded pub/sub on the machine's Redis (7): a subscriber hears only the owners it added. */
describe('RedisChangesChannel (real Redis, sharded pub/sub)', () => {
  const config = { REDIS_URL: testConfig().TEST_REDIS_URL, REDIS_CLUSTER: false };
  const prefix = `test-${randomBytes(4).toString('hex')}`;
  const producer = createRedis(config, 'producer');
  const channel = new RedisChangesChannel(producer, prefix, () => createRedis(config, 'subscriber'));
  const noticeFor = (ownerId: string, cursor: string): ChangeNotice => ({
    tenantId: 't1',
    ownerId,
    change: { cursor, type: 'file.ready', fileId: null, at: new Date().toISOString(), data: {} },
  });

  afterAll(() => producer.disconnect());

  it('delivers the changes of the owners a replica serves, and no others; none after an owner is removed', async () => {
    const heard: string[] = [];
    const subscription = channel.subscribe(
      (n) => heard.push(`${n.ownerId}:${n.change.cursor}`),
      () => undefined,
    );
    try {
      await subscription.add('t1', 'alice');
      await channel.publish([noticeFor('alice', '1'), noticeFor('bob', '1')]);
      await until('alice heard', () => heard.includes('alice:1'));
      // Bob's channel has no subscriber anywhere: Redis counts it and sends nothing.
      expect(await producer.pubsub('SHARDNUMSUB', channel.channelOf('t1', 'bob'))).toEqual([channel.channelOf('t1', 'bob'), 0]);
      expect(await producer.pubsub('SHARDNUMSUB', channel.channelOf('t1', 'alice'))).toEqual([channel.channelOf('t1', 'alice'), 1]);

      subscription.remove('t1', 'alice');
      await until('alice unsubscribed', async () => ((await producer.pubsub('SHARDNUMSUB', channel.channelOf('t1', 'alice'))) as [string, number])[1] === 0);
      await channel.publish([noticeFor('alice', '2')]);
      await sleep(200);
      expect(heard).toEqual(['alice:1']);
    } finally {
      subscription.close();
    }
  });
});
