import { Logger } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { queueKeyPrefix, RedisConnection } from './redis';
import type { JobView } from '@app/contracts';
import { CarriedContext, sendingMessages } from '@app/observability';
import { jobSpan } from './job-span';
import { JOBS, JobName, JobPayloads, QueueName } from './registry';

export interface EnqueueOptions {
  /**
   * Deterministic id: BullMQ ignores a second add with the same id while the first exists, so a
   * repeated request or a redelivered event enqueues the work once.
   */
  jobId?: string;
  delayMs?: number;
  /**
   * Run again even if a job with this id already finished (a reprocess or a re-drive): a
   * completed or failed job of that id is removed first. One still waiting or running is left
   * alone, and the add is then a no-op, as usual.
   */
  rerun?: boolean;
}

/** What became of a request to retry a job: only a failed job goes back to waiting. */
export type RetryOutcome = { result: 'retried' } | { result: 'not_found' } | { result: 'not_failed'; state: string };

/** The producer side: every service enqueues through this, by job name, with a typed payload. */
export class JobQueue {
  private readonly logger = new Logger(JobQueue.name);
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  /** The BullMQ queue itself, for this adapter and for tests that inspect Redis; services use the methods below. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: queueKeyPrefix(this.prefix, name) });
      queue.on('error', (error) => this.logger.warn({ err: error, queue: name }, 'queue connection error'));
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions = {}): Promise<string> {
    const definition = JOBS[name];
    return sendingMessages(jobSpan(definition.queue, name, options.jobId), 1, async (carried) => {
      if (options.rerun && options.jobId) {
        const queue = this.queue(definition.queue);
        const existing = await queue.getJob(options.jobId);
        const state = existing ? await existing.getState() : null;
        if (state === 'completed' || state === 'failed') await existing!.remove();
      }
      const job = await this.queue(definition.queue).add(name, carrying(payload, carried), {
        ...definition.options,
        jobId: options.jobId,
        delay: options.delayMs,
      });
      return job.id ?? '';
    });
  }

  /** Several jobs of one kind in one round trip (BullMQ's addBulk); ids as in `enqueue`. */
  async enqueueMany<N extends JobName>(name: N, jobs: ReadonlyArray<{ payload: JobPayloads[N]; jobId?: string }>): Promise<void> {
    if (!jobs.length) return;
    const definition = JOBS[name];
    await sendingMessages(jobSpan(definition.queue, name), jobs.length, async (carried) => {
      await this.queue(definition.queue).addBulk(
        jobs.map(({ payload, jobId }) => ({ name, data: carrying(payload, carried), opts: { ...definition.options, jobId } })),
      );
    });
  }

  /** The newest `limit` jobs of one queue in one state, as operators see them. */
  async listJobs(queue: QueueName, state: JobView['state'], limit: number): Promise<JobView[]> {
    const jobs = await this.queue(queue).getJobs([state], 0, limit - 1, false);
    return jobs.map((job) => view(queue, state, job));
  }

  /** A failed job back to waiting, its attempts counted afresh; a job in any other state is left alone. */
  async retryFailed(queue: QueueName, id: string): Promise<RetryOutcome> {
    const job = await this.queue(queue).getJob(id);
    if (!job) return { result: 'not_found' };
    const state = await job.getState();
    if (state !== 'failed') return { result: 'not_failed', state };
    await job.retry('failed', { resetAttemptsMade: true });
    return { result: 'retried' };
  }

  /** Installs (or updates) the schedules of every job of these queues that has one. Idempotent. */
  async installSchedules(queues: QueueName[], intervals: Partial<Record<JobName, number>> = {}): Promise<void> {
    for (const [name, definition] of Object.entries(JOBS) as Array<[JobName, (typeof JOBS)[JobName]]>) {
      const every = intervals[name] ?? definition.everyMs;
      if (!every || !queues.includes(definition.queue)) continue;
      await this.queue(definition.queue).upsertJobScheduler(`schedule:${name}`, { every }, { name, data: { v: 1 }, opts: definition.options });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

function view(queue: QueueName, state: JobView['state'], job: Job): JobView {
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    state,
    data: (job.data ?? {}) as Record<string, unknown>,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason ?? null,
    stacktrace: (job.stacktrace ?? []).slice(0, 3).map((s) => s.split('\n').slice(0, 6).join('\n')),
    createdAt: new Date(job.timestamp).toISOString(),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}

/**
 * The payload with the context of the work enqueueing it (docs/tracing.md): the job logs under the
 * same request id and its span continues the same trace. A request id the payload names itself (a
 * file's, read from its row) wins.
 */
function carrying<P extends CarriedContext>(payload: P, carried: CarriedContext): P {
  const requestId = payload.requestId ?? carried.requestId;
  return { ...payload, ...carried, ...(requestId ? { requestId } : {}) };
}
