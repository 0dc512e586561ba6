import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { ConfigModule } from '@app/config';
import { ObservabilityModule } from '@app/observability';
import { JobQueue, OnJob, QueueModule, queueKeyPrefix, RedisHealth } from '@app/queue';
import type { JobContext } from '@app/queue';
import { freePort, PrivateRedis, sleep, testConfig, until } from '@app/testing';

/**
 * A stand-in for a long job: the test's own jobs (ids starting "test-") run until the test opens
 * the gate. Other runs, such as the one the hourly schedule starts at boot, finish at once.
 */
@Injectable()
class SlowPrune {
  started = 0;
  finished = 0;
  aborted = false;
  private release!: () => void;
  readonly gate = new Promise<void>((r) => (this.release = r));

  open(): void {
    this.release();
  }

  @OnJob('changes.prune')
  async run(_payload: unknown, context: JobContext) {
    if (!context.id.startsWith('test-')) return { scheduled: true };
    this.started++;
    context.signal.addEventListener('abort', () => (this.aborted = true));
    await this.gate;
    this.finished++;
    return { done: true };
  }
}

/** The other job of the `sync` queue: every served job needs its handler. */
@Injectable()
class Sweep {
  @OnJob('webhooks.sweep')
  async sweep() {
    return { enqueued: 0 };
  }
}

async function appServingSync(prefix: string, shutdownTimeoutMs: number): Promise<TestingModule> {
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ REDIS_URL: testConfig().TEST_REDIS_URL, QUEUE_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs }),
      QueueModule.forRoot({ serve: ['sync'] }),
      // Workers report their jobs' outcomes and durations as metrics, as in every service.
      ObservabilityModule.forRoot({ service: 'queue-test', level: 'silent', pretty: false, checks: [] }),
    ],
    providers: [SlowPrune, Sweep],
  }).compile();
  await module.init();
  return module;
}

describe('queue workers on real Redis', () => {
  const prefix = () => {
    const p = `test-${randomBytes(4).toString('hex')}`;
    prefixes.push(p);
    return p;
  };
  let inspector: Redis;

  beforeAll(() => {
    inspector = new Redis(testConfig().TEST_REDIS_URL, { maxRetriesPerRequest: null });
  });
  const prefixes: string[] = [];
  afterAll(async () => {
    // Tests clean up what they create: every key under the prefixes they used.
    for (const p of prefixes) {
      const keys = await inspector.keys(`${p}:*`);
      if (keys.length) await inspector.del(...keys);
    }
    inspector.disconnect();
  });

  it('on shutdown stops taking jobs and finishes the active one before closing', async () => {
    const p = prefix();
    const app = await appServingSync(p, 10_000);
    const handler = app.get(SlowPrune);
    const jobId = await app.get(JobQueue).enqueue('changes.prune', { v: 1 }, { jobId: 'test-drain-1' });
    await until('the job to start', () => handler.started === 1);

    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await sleep(1_000);
    expect(closed).toBe(false); // the job is still running, so shutdown waits

    handler.open();
    await closing;
    expect(handler.finished).toBe(1);
    const queue = new Queue('sync', { connection: inspector, prefix: queueKeyPrefix(p, 'sync') });
    const job = await queue.getJob(jobId);
    expect(await job!.getState()).toBe('completed');
    expect(job!.returnvalue).toEqual({ done: true });
    await queue.close();
  });

  it('past the drain deadline it leaves the job in Redis for redelivery, never marks it done', async () => {
    const p = prefix();
    const app = await appServingSync(p, 1_000);
    const handler = app.get(SlowPrune);
    const jobId = await app.get(JobQueue).enqueue('changes.prune', { v: 1 }, { jobId: 'test-drain-2' });
    await until('the job to start', () => handler.started === 1);

    // The handler never finishes (its gate stays shut): a close that waited for it would not end.
    // The bound only shows the 1 s deadline was kept, with room for a loaded machine (closing the
    // worker's Redis connections took up to 10 s under a full CI run).
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(handler.finished).toBe(0);
    expect(handler.aborted).toBe(true);
    // Read Redis directly: the job is still in the active list (its lock expires and the stalled
    // check hands it to another worker), with no finish time: neither completed nor failed.
    expect(await inspector.lrange(`${queueKeyPrefix(p, 'sync')}:sync:active`, 0, -1)).toContain(jobId);
    expect(await inspector.hget(`${queueKeyPrefix(p, 'sync')}:sync:${jobId}`, 'finishedOn')).toBeNull();
    expect(await inspector.zscore(`${queueKeyPrefix(p, 'sync')}:sync:completed`, jobId)).toBeNull();
    expect(await inspector.zscore(`${queueKeyPrefix(p, 'sync')}:sync:failed`, jobId)).toBeNull();
    // The gate stays shut: a real process exits here (runHttpService), so the abandoned handler
    // never resumes on the closed connections.
  });

  it('enqueueing with the same jobId twice runs the work once', async () => {
    const p = prefix();
    const app = await appServingSync(p, 10_000);
    const handler = app.get(SlowPrune);
    handler.open();
    const jobs = app.get(JobQueue);
    const [a, b] = await Promise.all([
      jobs.enqueue('changes.prune', { v: 1 }, { jobId: 'test-same' }),
      jobs.enqueue('changes.prune', { v: 1 }, { jobId: 'test-same' }),
    ]);
    expect(a).toBe(b);
    await until('the job to finish', () => handler.finished === 1);
    await sleep(300);
    expect(handler.started).toBe(1);
    await app.close();
    const queue = new Queue('sync', { connection: inspector, prefix: queueKeyPrefix(p, 'sync') });
    await queue.close();
  });
});

describe('RedisHealth', () => {
  it('reports down at once when Redis stops and up again when it returns, with no restart', async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const module = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ REDIS_URL: redis.url, QUEUE_PREFIX: 'health', SHUTDOWN_TIMEOUT_MS: 1_000 }),
        QueueModule.forRoot({ serve: [] }),
        ObservabilityModule.forRoot({ service: 'queue-test', level: 'silent', pretty: false, checks: [] }),
      ],
    }).compile();
    await module.init();
    const health = module.get(RedisHealth);
    try {
      await until('Redis up', () =>
        health.check().then(
          () => true,
          () => false,
        ),
      );

      await redis.stop();
      const started = Date.now();
      await expect(health.check()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2_000);

      await redis.start();
      await until(
        'Redis back',
        () =>
          health.check().then(
            () => true,
            () => false,
          ),
        10_000,
      );
    } finally {
      await module.close();
      await redis.stop();
    }
  });
});
