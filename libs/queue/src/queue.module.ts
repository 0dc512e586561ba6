import { BeforeApplicationShutdown, DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { APP_CONFIG } from '@app/config';
import type { BaseEnv, RedisEnv } from '@app/config';
import { MetricsService, type DependencyCheck } from '@app/observability';
import { CHANGE_PUBLISHER } from '@app/database';
import { RedisChangePublisher } from './change-publisher';
import { RedisChangesChannel } from './changes-channel';
import { JobQueue } from './job-queue';
import { createRedis } from './redis';
import type { RedisConnection } from './redis';
import { JobName, QueueName, QUEUES } from './registry';
import { collectHandlers, WorkerHost } from './worker-host';

const WORKER_REDIS = Symbol('WORKER_REDIS');
const PRODUCER_REDIS = Symbol('PRODUCER_REDIS');
const PROBE_REDIS = Symbol('PROBE_REDIS');
/** A fail-fast Redis connection for request-time work (rate limits): the producer connection. */
export const SHARED_REDIS = Symbol('SHARED_REDIS');
const SERVED_QUEUES = Symbol('SERVED_QUEUES');
const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

@Injectable()
export class RedisHealth implements DependencyCheck {
  readonly name = 'redis';

  constructor(@Inject(PROBE_REDIS) private readonly redis: RedisConnection) {}

  async check() {
    // A separate connection with no offline queue: a PING while Redis is down fails at once.
    await this.redis.ping();
  }
}

@Injectable()
class QueueLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private host: WorkerHost | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: BaseEnv & RedisEnv,
    @Inject(SERVED_QUEUES) private readonly served: QueueName[],
    @Inject(QUEUE_OPTIONS) private readonly options: QueueModuleOptions,
    @Inject(WORKER_REDIS) private readonly workerRedis: RedisConnection,
    @Inject(PRODUCER_REDIS) private readonly producerRedis: RedisConnection,
    @Inject(PROBE_REDIS) private readonly probeRedis: RedisConnection,
    private readonly metrics: MetricsService,
  ) {}

  get workerHost(): WorkerHost | null {
    return this.host;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handlers = collectHandlers(this.discovery, this.scanner, this.reflector, this.served);
    const runs = this.metrics.counter(
      'queue_jobs_processed_total',
      'Jobs this process ran, by queue, job and how they ended (failed: retried, or failed for good)',
      ['queue', 'job', 'outcome'],
    );
    const durations = this.metrics.histogram(
      'queue_job_duration_seconds',
      'How long jobs took in this process, by queue and job',
      ['queue', 'job'],
      [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120, 600, 3600],
    );
    // The backlog ops scale and alert on: each served queue's jobs by state, read at every scrape.
    if (this.served.length)
      this.metrics.gauge(
        'queue_jobs',
        'Jobs of each queue this process serves, by state (waiting, active, delayed, failed)',
        ['queue', 'state'],
        async (gauge) => {
          for (const queue of this.served) {
            const counts = await this.jobs.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'failed');
            for (const [state, count] of Object.entries(counts)) gauge.set({ queue, state }, count ?? 0);
          }
        },
      );
    this.host = new WorkerHost(handlers, {
      connection: this.workerRedis,
      prefix: this.config.QUEUE_PREFIX,
      served: this.served,
      drainTimeoutMs: this.config.SHUTDOWN_TIMEOUT_MS,
      backoff: this.options.backoff,
      concurrency: queueConcurrency(this.config.QUEUE_CONCURRENCY),
      onJobDone: ({ queue, name }, outcome, seconds) => {
        runs.inc({ queue, job: name, outcome });
        durations.observe({ queue, job: name }, seconds);
      },
    });
    this.host.start();
    // Schedules live in Redis; installing them on every start restores them after Redis lost its data.
    await this.jobs.installSchedules(this.served, this.options.intervals).catch(() => undefined);
  }

  /** Stop taking jobs and finish the active ones while the database is still connected. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.host?.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
    for (const redis of [this.workerRedis, this.producerRedis, this.probeRedis]) redis.disconnect();
  }
}

export interface QueueModuleOptions {
  /** The queues whose jobs this process runs; [] for a pure producer. */
  serve: QueueName[];
  /** Schedule intervals overriding the registry's (e.g. from configuration). */
  intervals?: Partial<Record<JobName, number>>;
  /** Delay before retry N (1-based) of jobs whose registry backoff is `custom`, per served queue. */
  backoff?: Partial<Record<QueueName, (attemptsMade: number) => number>>;
}

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    const redis = (token: symbol, role: 'worker' | 'producer' | 'probe') => ({
      provide: token,
      inject: [APP_CONFIG],
      useFactory: (c: RedisEnv) => createRedis(c, role),
    });
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
      providers: [
        redis(WORKER_REDIS, 'worker'),
        redis(PRODUCER_REDIS, 'producer'),
        redis(PROBE_REDIS, 'probe'),
        { provide: SERVED_QUEUES, useValue: options.serve },
        { provide: QUEUE_OPTIONS, useValue: options },
        { provide: JobQueue, inject: [PRODUCER_REDIS, APP_CONFIG], useFactory: (r: RedisConnection, c: RedisEnv) => new JobQueue(r, c.QUEUE_PREFIX) },
        { provide: SHARED_REDIS, useExisting: PRODUCER_REDIS },
        // Publishes on the producer connection; each subscription (sync-notifier) opens its own.
        {
          provide: RedisChangesChannel,
          inject: [PRODUCER_REDIS, APP_CONFIG],
          useFactory: (r: RedisConnection, c: RedisEnv) => new RedisChangesChannel(r, c.QUEUE_PREFIX, () => createRedis(c, 'subscriber')),
        },
        // Committed changes go to the sync-notifier replicas and the webhook queue.
        {
          provide: CHANGE_PUBLISHER,
          inject: [RedisChangesChannel, JobQueue],
          useFactory: (channel: RedisChangesChannel, jobs: JobQueue) => new RedisChangePublisher(channel, jobs),
        },
        QueueLifecycle,
        RedisHealth,
      ],
      exports: [JobQueue, RedisHealth, SHARED_REDIS, CHANGE_PUBLISHER, RedisChangesChannel],
    };
  }
}

/** QUEUE_CONCURRENCY's sizes, refused at boot when they name a queue the registry does not know. */
export function queueConcurrency(sizes: Record<string, number> = {}): Partial<Record<QueueName, number>> {
  const unknown = Object.keys(sizes).filter((name) => !Object.hasOwn(QUEUES, name));
  if (unknown.length) throw new Error(`QUEUE_CONCURRENCY names unknown queue(s) ${unknown.join(', ')}; queues: ${Object.keys(QUEUES).join(', ')}`);
  return sizes;
}
