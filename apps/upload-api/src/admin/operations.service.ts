import { Injectable } from '@nestjs/common';
import type { Job, JobType } from 'bullmq';
import { DomainError, JOB_STATES, JobView } from '@app/contracts';
import type { z } from 'zod';
import type { listJobsQuery, reprocessBody } from '@app/contracts';
import { FileRepository } from '@app/database';
import { JOBS, JobQueue, QUEUES, QueueName } from '@app/queue';

type JobState = (typeof JOB_STATES)[number];

/** Statuses a file can be reprocessed from (stored content that processing may run on). */
const REPROCESSABLE = new Set(['uploaded', 'processing', 'ready', 'failed']);

/** Operator routes: re-run processing, and see (and retry) what the workers did. */
@Injectable()
export class OperationsService {
  constructor(
    private readonly files: FileRepository,
    private readonly jobs: JobQueue,
  ) {}

  async reprocess(body: z.infer<typeof reprocessBody>): Promise<{ jobId: string; queue: string }> {
    if (body.fileId) {
      const file = await this.files.find(body.fileId);
      if (!file) throw new DomainError('not_found', 'No such file.');
      if (!REPROCESSABLE.has(file.status)) throw new DomainError('invalid_state', `A ${file.status} file has no stored content to process.`);
      // Deduplicated while waiting: a second click does not queue a second run.
      const jobId = await this.jobs.enqueue('media.reprocess', { v: 1, fileId: file.id }, { jobId: `reprocess-${file.id}`, rerun: true });
      return { jobId, queue: JOBS['media.reprocess'].queue };
    }
    const jobId = await this.jobs.enqueue('media.reprocess', { v: 1, variant: body.variant, tenantId: body.tenantId });
    return { jobId, queue: JOBS['media.reprocess'].queue };
  }

  /** Newest first across the chosen queues; failed jobs by default, with their reasons. */
  async listJobs(query: z.infer<typeof listJobsQuery>): Promise<{ items: JobView[] }> {
    const state: JobState = query.state ?? 'failed';
    const limit = query.limit ?? 50;
    const queues = query.queue ? [this.queueName(query.queue)] : (Object.keys(QUEUES) as QueueName[]);
    const found = await Promise.all(
      queues.map(async (name) => (await this.jobs.queue(name).getJobs([state as JobType], 0, limit - 1, false)).map((job) => view(name, state, job))),
    );
    const items = found
      .flat()
      .sort((a, b) => (b.finishedAt ?? b.createdAt).localeCompare(a.finishedAt ?? a.createdAt))
      .slice(0, limit);
    return { items };
  }

  /** A failed job back to waiting, its attempts counted afresh. */
  async retryJob(queue: string, id: string): Promise<{ jobId: string; queue: string }> {
    const name = this.queueName(queue);
    const job = await this.jobs.queue(name).getJob(id);
    if (!job) throw new DomainError('not_found', 'No such job.');
    const state = await job.getState();
    if (state !== 'failed') throw new DomainError('invalid_state', `Only failed jobs can be retried; this one is ${state}.`);
    await job.retry('failed', { resetAttemptsMade: true });
    return { jobId: id, queue: name };
  }

  private queueName(queue: string): QueueName {
    if (!Object.hasOwn(QUEUES, queue)) throw new DomainError('not_found', `No queue "${queue}"; queues: ${Object.keys(QUEUES).join(', ')}.`);
    return queue as QueueName;
  }
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

function view(queue: QueueName, state: JobState, job: Job): JobView {
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
