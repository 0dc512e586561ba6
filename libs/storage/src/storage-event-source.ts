import { GetQueueAttributesCommand, GetQueueUrlCommand, Message, SQSClient } from '@aws-sdk/client-sqs';
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

/** Messages waiting (visible) and received but not yet deleted (in flight). */
export interface QueueDepth {
  visible: number;
  inFlight: number;
}

/** One SQS message: the storage events it carries. */
export interface StorageEventMessage {
  events: StorageEvent[];
  context: StorageEventContext;
}

/**
 * Acts on a batch of messages (up to SQS_BATCH_SIZE, one ReceiveMessage) and resolves with the
 * ones it is done with: those are deleted in one DeleteMessageBatch; the others (or all, when it
 * throws) are left for redelivery.
 */
export type StorageEventBatchHandler = (messages: StorageEventMessage[]) => Promise<StorageEventMessage[]>;

export interface StorageEventSourceOptions {
  queueUrl: string;
  batchSize: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  /** How long stop() waits for in-flight messages before giving up on them (they are redelivered). */
  drainTimeoutMs: number;
  /**
   * Receive loops run side by side. One loop waits for its batch's HEADs and commit before its next
   * receive; a second keeps SQS busy meanwhile.
   */
  pollers: number;
}

/** One receive loop and the messages it has in hand. */
interface Poller {
  consumer: Consumer;
  inFlight: number;
}

/**
 * S3 event notifications from SQS, through sqs-consumer (docs/adr/0006-sqs-consumer.md):
 * long polling, a whole receive handed over as one batch (so the handler can commit it in one
 * transaction), visibility extended by a heartbeat while the batch is worked on, deletion in one
 * DeleteMessageBatch only after the handler resolved (i.e. after the database commit), and a graceful
 * stop that lets in-flight messages finish. A message whose handler throws is not deleted:
 * SQS redelivers it, and after the queue's maxReceiveCount the redrive policy moves it to the DLQ.
 */
export class StorageEventSource {
  private readonly logger = new Logger(StorageEventSource.name);
  private pollers: Poller[] = [];
  private stopping = false;
  private oldestReceived = 0;
  private deadLetterUrl?: Promise<string | null>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: StorageEventSourceOptions,
  ) {}

  get running(): boolean {
    return this.pollers.length > 0 && this.pollers.every((p) => p.consumer.status.isRunning);
  }

  get inFlightMessages(): number {
    return this.pollers.reduce((sum, p) => sum + p.inFlight, 0);
  }

  /**
   * How long the oldest message of the latest receive had waited in the queue (seconds; 0 after an
   * empty receive): SQS's own ApproximateAgeOfOldestMessage is a CloudWatch metric, not an
   * attribute, so the consumer measures what it takes. A backlog the consumers cannot work off
   * shows here as a growing age, since every receive then brings older messages.
   */
  get oldestMessageAgeSeconds(): number {
    return this.oldestReceived;
  }

  start(handler: StorageEventBatchHandler): void {
    if (this.pollers.length) throw new Error('StorageEventSource already started');
    this.pollers = Array.from({ length: this.options.pollers }, () => this.poller(handler));
    for (const { consumer } of this.pollers) consumer.start();
    this.logger.log({ queueUrl: this.options.queueUrl, pollers: this.pollers.length }, 'consuming storage events');
  }

  private poller(handler: StorageEventBatchHandler): Poller {
    const visibility = this.options.visibilityTimeoutSeconds;
    const held = { inFlight: 0 };
    const consumer = Consumer.create({
      queueUrl: this.options.queueUrl,
      sqs: this.sqs,
      batchSize: this.options.batchSize,
      waitTimeSeconds: this.options.waitTimeSeconds,
      visibilityTimeout: visibility,
      heartbeatInterval: Math.max(1, Math.floor(visibility / 3)),
      pollingCompleteWaitTimeMs: this.options.drainTimeoutMs,
      messageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      strictReturn: true,
      handleMessageBatch: async (messages: Message[]) => {
        held.inFlight += messages.length;
        this.noteAges(messages);
        try {
          const parsed = new Map<StorageEventMessage, Message>();
          for (const message of messages) {
            const events = this.parse(message);
            if (!events) continue; // unreadable: left for redelivery, and after maxReceiveCount the DLQ
            const context = { messageId: message.MessageId ?? '', receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1) };
            parsed.set({ events, context }, message);
          }
          const done = parsed.size ? await handler([...parsed.keys()]) : [];
          return done.map((item) => parsed.get(item)!);
        } finally {
          held.inFlight -= messages.length;
        }
      },
    });
    consumer.on('error', (error, messages) => {
      // A batch handler that threw: its messages are redelivered (their commit did not happen).
      if (messages && error.name !== 'SQSError')
        return this.logger.warn({ err: error, messages: (messages as Message[]).length }, 'storage events failed; left for redelivery');
      // stop() aborts an idle long poll on purpose; that abort is not an outage.
      if (this.stopping && (error as { code?: string }).code === 'AbortError') return this.logger.debug('long poll aborted for shutdown');
      this.logger.error({ err: error }, 'SQS error');
    });
    consumer.on('empty', () => {
      this.oldestReceived = 0;
    });
    consumer.on('processing_error', (error, message) =>
      this.logger.warn({ err: error, messageId: (message as Message | undefined)?.MessageId }, 'storage event failed; left for redelivery'),
    );
    return Object.assign(held, { consumer });
  }

  private noteAges(messages: Message[]): void {
    const sent = messages.map((m) => Number(m.Attributes?.SentTimestamp)).filter((t) => Number.isFinite(t) && t > 0);
    if (sent.length) this.oldestReceived = Math.max(0, (Date.now() - Math.min(...sent)) / 1000);
  }

  private parse(message: Message): StorageEvent[] | null {
    try {
      return parseS3Notification(message.Body ?? '');
    } catch (error) {
      this.logger.warn({ err: error, messageId: message.MessageId }, 'unreadable storage event message; left for the DLQ');
      return null;
    }
  }

  /** Stops polling and resolves once in-flight messages finished (or the drain timeout passed). */
  async stop(): Promise<void> {
    const pollers = this.pollers;
    if (!pollers.length) return;
    this.pollers = [];
    this.stopping = true;
    const inFlight = pollers.reduce((sum, p) => sum + p.inFlight, 0);
    await Promise.all(
      pollers
        .filter((p) => p.consumer.status.isRunning)
        .map(
          (p) =>
            new Promise<void>((resolve) => {
              p.consumer.once('stopped', () => resolve());
              // An idle loop is usually parked in a 20 s long poll: abort it, or shutdown would wait
              // for it. (Messages an aborted receive had already taken come back after their
              // visibility timeout.) With messages in hand, do not abort: they finish and are acknowledged.
              p.consumer.stop({ abort: p.inFlight === 0 });
            }),
        ),
    );
    this.logger.log({ inFlight }, 'stopped consuming storage events');
  }

  /** Queue depth, for readiness details, metrics and the autoscaling signal. */
  depth(): Promise<QueueDepth> {
    return this.depthOf(this.options.queueUrl);
  }

  /**
   * The depth of the queue's dead-letter queue (where its redrive policy moves a message after
   * maxReceiveCount deliveries), or null when it has none. Its URL comes from the policy itself,
   * so no setting can point at the wrong queue.
   */
  async deadLetterDepth(): Promise<QueueDepth | null> {
    this.deadLetterUrl ??= this.findDeadLetterUrl();
    const url = await this.deadLetterUrl.catch((error: unknown) => {
      this.deadLetterUrl = undefined; // asked again at the next call
      throw error;
    });
    return url ? this.depthOf(url) : null;
  }

  private async findDeadLetterUrl(): Promise<string | null> {
    try {
      const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ['RedrivePolicy'] }));
      const policy = out.Attributes?.RedrivePolicy;
      if (!policy) return null;
      // arn:aws:sqs:<region>:<account>:<name>
      const [, , , , account, name] = String((JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? '').split(':');
      if (!name) return null;
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account || undefined }))).QueueUrl ?? null;
    } catch (error) {
      throw fromStorageError(error, 'GetQueueAttributes');
    }
  }

  private async depthOf(queueUrl: string): Promise<QueueDepth> {
    try {
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
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
