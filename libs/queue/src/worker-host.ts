import { Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { CarriedContext, processingMessage } from '@app/observability';
import { jobSpan } from './job-span';
import { PermanentJobFailure } from './job-outcome';
import { JobContext, ON_JOB } from './on-job.decorator';
import { queueKeyPrefix, RedisConnection } from './redis';
import { JOBS, jobsOfQueue, JobName, QUEUES, QueueName } from './registry';

/** How long a forced close may take once the drain deadline has passed. */
const FORCED_CLOSE_MS = 2_000;

async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type BoundHandler = (payload: unknown, context: JobContext) => Promise<unknown>;

export class HandlerRegistrationError extends Error {
  override name = 'HandlerRegistrationError';
}

/**
 * Finds every @OnJob handler in the app and checks the set against the registry: a job of a
 * served queue with no handler, or a job with two handlers, stops the process at startup rather
 * than leaving jobs to rot or run twice.
 */
export function collectHandlers(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector, served: QueueName[]): Map<JobName, BoundHandler> {
  const found = new Map<JobName, { handler: BoundHandler; where: string }>();
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const method of scanner.getAllMethodNames(prototype)) {
      const fn = instance[method];
      if (typeof fn !== 'function') continue;
      const name = reflector.get<JobName | undefined>(ON_JOB, fn);
      if (!name) continue;
      const where = `${instance.constructor.name}.${method}`;
      if (!(name in JOBS)) throw new HandlerRegistrationError(`${where} handles unknown job "${name}"`);
      const previous = found.get(name);
      if (previous) throw new HandlerRegistrationError(`job "${name}" has two handlers: ${previous.where} and ${where}`);
      found.set(name, { handler: (fn as BoundHandler).bind(instance), where });
    }
  }
  const missing = served.flatMap((queue) => jobsOfQueue(queue)).filter((name) => !found.has(name));
  if (missing.length) throw new HandlerRegistrationError(`no handler for job(s) ${missing.join(', ')} of the queues this service serves`);
  const stray = [...found.keys()].filter((name) => !served.includes(JOBS[name].queue));
  if (stray.length) throw new HandlerRegistrationError(`handlers for job(s) ${stray.join(', ')} whose queues this service does not serve`);
  return new Map([...found].map(([name, { handler }]) => [name, handler]));
}

/**
 * What BullMQ is told when a handler throws: a PermanentJobFailure becomes BullMQ's
 * UnrecoverableError (failed without further attempts), keeping the handler's message and stack;
 * anything else is thrown as it is and retried by the job's policy.
 */
export function toWorkerError(error: unknown): unknown {
  if (!(error instanceof PermanentJobFailure)) return error;
  const unrecoverable = new UnrecoverableError(error.message);
  unrecoverable.stack = error.stack;
  unrecoverable.cause = error;
  return unrecoverable;
}

export interface WorkerHostOptions {
  connection: RedisConnection;
  prefix: string;
  served: QueueName[];
  drainTimeoutMs: number;
  concurrency?: Partial<Record<QueueName, number>>;
  /** Retry delays of `backoff: { type: 'custom' }` jobs, per queue (e.g. from configuration). */
  backoff?: Partial<Record<QueueName, (attemptsMade: number) => number>>;
  /** Told of every job run: how it ended and how long it took (the metrics). */
  onJobDone?: (job: { queue: QueueName; name: JobName }, outcome: 'completed' | 'failed', seconds: number) => void;
}

/** One BullMQ worker per served queue, dispatching by job name to the registered handler. */
export class WorkerHost {
  private readonly logger = new Logger(WorkerHost.name);
  private readonly workers: Worker[] = [];
  private readonly shutdown = new AbortController();
  private active = 0;

  constructor(
    private readonly handlers: Map<JobName, BoundHandler>,
    private readonly options: WorkerHostOptions,
  ) {}

  get activeJobs(): number {
    return this.active;
  }

  start(): void {
    for (const queue of this.options.served) {
      if (jobsOfQueue(queue).length === 0) continue;
      const worker = new Worker(queue, (job: Job) => this.run(job), {
        connection: this.options.connection,
        prefix: queueKeyPrefix(this.options.prefix, queue),
        concurrency: this.options.concurrency?.[queue] ?? QUEUES[queue].concurrency,
        ...(this.options.backoff?.[queue] ? { settings: { backoffStrategy: this.options.backoff[queue] } } : {}),
      });
      worker.on('error', (error) => this.logger.warn({ err: error, queue }, 'worker connection error'));
      worker.on('failed', (job, error) => this.logger.warn({ err: error, queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade }, 'job failed'));
      this.workers.push(worker);
      this.logger.log({ queue, jobs: jobsOfQueue(queue) }, 'serving queue');
    }
  }

  private async run(job: Job): Promise<unknown> {
    const handler = this.handlers.get(job.name as JobName);
    // Only reachable when a job name was removed from the registry while jobs remained queued.
    if (!handler) throw new Error(`no handler for job "${job.name}"`);
    // A payload from a newer producer is refused, not misread: failed for good, kept for inspection.
    const version = (job.data as { v?: unknown } | null)?.v;
    if (version !== 1) throw new UnrecoverableError(`payload version ${String(version)} is not understood by this worker (it reads version 1)`);
    this.active++;
    const started = performance.now();
    let outcome: 'completed' | 'failed' = 'failed';
    try {
      // Under the request id and trace context the job carries: one request followed from the API into its work.
      const attempt = job.attemptsMade + 1;
      const span = jobSpan(JOBS[job.name as JobName].queue, job.name, job.id, { 'messaging.bullmq.job.attempt': attempt });
      const result = await processingMessage(span, job.data as CarriedContext, () =>
        handler(job.data, { id: job.id ?? '', attempt, signal: this.shutdown.signal }),
      );
      outcome = 'completed';
      return result;
    } catch (error) {
      throw toWorkerError(error);
    } finally {
      this.active--;
      this.options.onJobDone?.({ queue: JOBS[job.name as JobName].queue, name: job.name as JobName }, outcome, (performance.now() - started) / 1000);
    }
  }

  /**
   * Stops taking jobs and waits for active ones. Past the drain deadline, handlers are told to
   * abort and the worker is force-closed: the unfinished job stays in Redis as stalled and another
   * worker (or this one after restart) runs it again; it is never marked done half-way.
   */
  async drain(): Promise<void> {
    if (!this.workers.length) return;
    const closed = Promise.all(this.workers.map((w) => w.close())).then(() => 'closed' as const);
    if ((await raceTimeout(closed, this.options.drainTimeoutMs)) === 'timeout') {
      this.logger.warn({ active: this.active }, 'drain deadline passed; leaving active jobs for redelivery');
      this.shutdown.abort();
      // A forced close still waits for a processor that ignores the abort signal; bound it too.
      const forced = Promise.all(this.workers.map((w) => w.close(true))).then(() => 'closed' as const);
      await raceTimeout(forced, FORCED_CLOSE_MS);
    }
    this.workers.length = 0;
  }
}
