import { GetQueueAttributesCommand, Message, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@nestjs/common';
import { Consumer } from 'sqs-consumer';
import type { StorageEvent } from '@app/domain';
import { fromStorageError } from './errors';
import { parseS3Notification } from './s3-event';

export interface StorageEventContext {
  messageId: string;
  /** How many times SQS has delivered this message (1 on first delivery). */
  receiveCount: number;
}

/** Acts on one message's events. Resolving acknowledges (deletes) the message; throwing leaves it for redelivery. */
export type StorageEventHandler = (events: StorageEvent[], context: StorageEventContext) => Promise<void>;

export interface StorageEventSourceOptions {
  queueUrl: string;
  batchSize: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  /** How long stop() waits for in-flight messages before giving up on them (they are redelivered). */
  drainTimeoutMs: number;
}

/**
 * S3 event notifications from SQS, through sqs-consumer (docs/adr/0006-sqs-consumer.md):
 * long polling, batches, visibility extended by a heartbeat while a message is worked on,
 * deletion only after the handler resolved (i.e. after the database commit), and a graceful
 * stop that lets in-flight messages finish. A message whose handler throws is not deleted:
 * SQS redelivers it, and after the queue's maxReceiveCount the redrive policy moves it to the DLQ.
 */
export class StorageEventSource {
  private readonly logger = new Logger(StorageEventSource.name);
  private consumer: Consumer | null = null;
  private inFlight = 0;
  private stopping = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: StorageEventSourceOptions,
  ) {}

  get running(): boolean {
    return this.consumer?.status.isRunning ?? false;
  }

  get inFlightMessages(): number {
    return this.inFlight;
  }

  start(handler: StorageEventHandler): void {
    if (this.consumer) throw new Error('StorageEventSource already started');
    const visibility = this.options.visibilityTimeoutSeconds;
    this.consumer = Consumer.create({
      queueUrl: this.options.queueUrl,
      sqs: this.sqs,
      batchSize: this.options.batchSize,
      waitTimeSeconds: this.options.waitTimeSeconds,
      visibilityTimeout: visibility,
      heartbeatInterval: Math.max(1, Math.floor(visibility / 3)),
      pollingCompleteWaitTimeMs: this.options.drainTimeoutMs,
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      handleMessage: async (message: Message) => {
        this.inFlight++;
        try {
          const events = parseS3Notification(message.Body ?? '');
          await handler(events, {
            messageId: message.MessageId ?? '',
            receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
          });
          return message;
        } finally {
          this.inFlight--;
        }
      },
    });
    this.consumer.on('error', (error) => {
      // stop() aborts an idle long poll on purpose; that abort is not an outage.
      if (this.stopping && (error as { code?: string }).code === 'AbortError') return this.logger.debug('long poll aborted for shutdown');
      this.logger.error({ err: error }, 'SQS error');
    });
    this.consumer.on('processing_error', (error, message) =>
      this.logger.warn({ err: error, messageId: (message as Message | undefined)?.MessageId }, 'storage event failed; left for redelivery'),
    );
    this.consumer.start();
    this.logger.log({ queueUrl: this.options.queueUrl }, 'consuming storage events');
  }

  /** Stops polling and resolves once in-flight messages finished (or the drain timeout passed). */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = null;
    if (!consumer.status.isRunning) return;
    // An idle consumer is usually parked in a 20 s long poll: abort it, or shutdown would wait
    // for it. (Messages an aborted receive had already taken come back after their visibility
    // timeout.) With messages in flight, do not abort: their handlers finish and are acknowledged.
    const abort = this.inFlight === 0;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      consumer.once('stopped', () => resolve());
      consumer.stop({ abort });
    });
    this.logger.log({ inFlight: this.inFlight }, 'stopped consuming storage events');
  }

  /** Queue depth, for readiness details and the autoscaling signal. */
  async depth(): Promise<{ visible: number; inFlight: number }> {
    try {
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.options.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (error) {
      throw fromStorageError(error, 'GetQueueAttributes');
    }
  }
}
