import { Injectable } from '@nestjs/common';
import { DomainError, JobView } from '@app/contracts';
import type { z } from 'zod';
import type { listJobsQuery, reprocessBody } from '@app/contracts';
import { FileRepository } from '@app/database';
import { isIn, STORED } from '@app/lifecycle';
import { JOBS, JobQueue, QUEUES, QueueName } from '@app/queue';

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
      // Stored content is what processing may run on.
      if (!isIn(STORED, file.status)) throw new DomainError('invalid_state', `A ${file.status} file has no stored content to process.`);
      // Deduplicated while waiting: a second click does not queue a second run.
      const jobId = await this.jobs.enqueue('media.reprocess', { v: 1, fileId: file.id }, { jobId: `reprocess-${file.id}`, rerun: true });
      return { jobId, queue: JOBS['media.reprocess'].queue };
    }
    const jobId = await this.jobs.enqueue('media.reprocess', { v: 1, variant: body.variant, tenantId: body.tenantId });
    return { jobId, queue: JOBS['media.reprocess'].queue };
  }

  /** Newest first across the chosen queues; failed jobs by default, with their reasons. */
  async listJobs(query: z.infer<typeof listJobsQuery>): Promise<{ items: JobView[] }> {
    const state = query.state ?? 'failed';
    const limit = query.limit ?? 50;
    const queues = query.queue ? [this.queueName(query.queue)] : (Object.keys(QUEUES) as QueueName[]);
    const found = await Promise.all(queues.map((name) => this.jobs.listJobs(name, state, limit)));
    const items = found
      .flat()
      .sort((a, b) => (b.finishedAt ?? b.createdAt).localeCompare(a.finishedAt ?? a.createdAt))
      .slice(0, limit);
    return { items };
  }

  /** A failed job back to waiting, its attempts counted afresh. */
  async retryJob(queue: string, id: string): Promise<{ jobId: string; queue: string }> {
    const name = this.queueName(queue);
    const outcome = await this.jobs.retryFailed(name, id);
    if (outcome.result === 'not_found') throw new DomainError('not_found', 'No such job.');
    if (outcome.result === 'not_failed') throw new DomainError('invalid_state', `Only failed jobs can be retried; this one is ${outcome.state}.`);
    return { jobId: id, queue: name };
  }

  private queueName(queue: string): QueueName {
    if (!Object.hasOwn(QUEUES, queue)) throw new DomainError('not_found', `No queue "${queue}"; queues: ${Object.keys(QUEUES).join(', ')}.`);
    return queue as QueueName;
  }
}
