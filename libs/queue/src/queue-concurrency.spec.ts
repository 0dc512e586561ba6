import { redisEnv } from '@app/config';
import { queueConcurrency } from './queue.module';

const parse = (value: string) => redisEnv.safeParse({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_CONCURRENCY: value });

describe('QUEUE_CONCURRENCY', () => {
  it('sizes the named queues and leaves the others to the registry', () => {
    const parsed = parse('media-image=4, webhooks=128');
    expect(parsed.success && queueConcurrency(parsed.data.QUEUE_CONCURRENCY)).toEqual({ 'media-image': 4, webhooks: 128 });
    const empty = parse('');
    expect(empty.success && queueConcurrency(empty.data.QUEUE_CONCURRENCY)).toEqual({});
  });

  it('refuses what is not queue=n, naming it', () => {
    for (const bad of ['media-image', 'media-image=0', 'webhooks=-1', 'webhooks=x', 'webhooks=10000']) {
      const parsed = parse(bad);
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(parsed.error.issues[0].message).toContain(bad);
    }
  });

  it('refuses at boot a queue the registry does not know', () => {
    expect(() => queueConcurrency({ 'media-imgae': 4 })).toThrow(/unknown queue\(s\) media-imgae/);
  });
});
