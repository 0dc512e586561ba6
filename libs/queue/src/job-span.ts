import type { MessagingSpan } from '@app/observability';
import type { QueueName } from './registry';

/** The producer (`send`) and consumer (`process`) spans of a job, by OpenTelemetry's messaging conventions. */
export function jobSpan(queue: QueueName, job: string, jobId?: string, more: MessagingSpan['attributes'] = {}): MessagingSpan {
  return {
    system: 'bullmq',
    destination: queue,
    attributes: { 'messaging.bullmq.job.name': job, ...(jobId ? { 'messaging.message.id': jobId } : {}), ...more },
  };
}
