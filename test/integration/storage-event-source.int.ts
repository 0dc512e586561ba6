import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { StorageEvent } from '@app/domain';
import { createSqsClient, FastPresigner, StorageEventContext, StorageEventMessage, StorageEventSource } from '@app/storage';
import { createTestStorage, sleep, StorageTestEnv, testConfig, testPresigner, until } from '@app/testing';

async function depth(sqs: SQSClient, queueUrl: string) {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(out.Attributes!.ApproximateNumberOfMessages) + Number(out.Attributes!.ApproximateNumberOfMessagesNotVisible);
}

describe('StorageEventSource (sqs-consumer on the emulator)', () => {
  let env: StorageTestEnv;
  let sqs: SQSClient;
  let s3: S3Client;
  let put: (name?: string) => Promise<string>;

  beforeEach(async () => {
    // Each test its own bucket + queue: short visibility so redelivery is observable quickly.
    env = await createTestStorage(testConfig().TEST_MOTO_URL, { visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
    sqs = createSqsClient(env);
    // S3 announces a new notification configuration with an s3:TestEvent message: take it off the
    // queue, so each test counts only its own messages.
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: env.SQS_QUEUE_URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    if (Messages.length)
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: env.SQS_QUEUE_URL, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
      );
    let presigner: FastPresigner;
    ({ presigner, s3 } = testPresigner(env));
    put = async (name = randomUUID()) => {
      const key = `uploads/${randomUUID()}/${name}`;
      const url = await presigner.putObject(key, { contentType: 'text/plain', contentLength: 2 });
      await fetch(url.url, { method: 'PUT', headers: url.headers, body: 'hi' });
      return key;
    };
  });

  afterEach(() => {
    sqs.destroy();
    s3.destroy();
  });

  const source = (drainTimeoutMs = 10_000) =>
    new StorageEventSource(sqs, { queueUrl: env.SQS_QUEUE_URL, batchSize: 10, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, drainTimeoutMs, pollers: 2 });

  /** The keys of a batch's events. */
  const keysOf = (messages: StorageEventMessage[]) => messages.flatMap((m) => m.events.map((e) => e.key));

  it('delivers decoded events and deletes each message once the handler resolved', async () => {
    const key = await put('with space+plus');
    const seen: StorageEvent[] = [];
    const consumer = source();
    consumer.start(async (messages) => {
      seen.push(...messages.flatMap((m) => m.events));
      return messages;
    });
    await until('the event', () => seen.some((e) => e.key === key));
    await consumer.stop();
    expect(seen.find((e) => e.key === key)?.eventName).toBe('ObjectCreated:Put');
    await until('an empty queue', async () => (await depth(sqs, env.SQS_QUEUE_URL)) === 0);
  });

  it('stop() waits for an in-flight message to finish, then it is acknowledged, not redelivered', async () => {
    const key = await put();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    let finished = 0;
    const consumer = source();
    consumer.start(async (messages) => {
      if (!keysOf(messages).includes(key)) return messages;
      started = true;
      await gate; // longer than the 2 s visibility timeout: the heartbeat must keep it hidden
      finished++;
      return messages;
    });
    await until('the handler to start', () => started);
    const stopping = consumer.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await sleep(3_000);
    expect(stopped).toBe(false); // still draining: the message is in flight
    release();
    await stopping;
    expect(finished).toBe(1);
    await sleep(2_500); // past the visibility timeout: nothing comes back
    expect(await depth(sqs, env.SQS_QUEUE_URL)).toBe(0);
  });

  it('a failing handler leaves the message for redelivery, and a poison message ends in the DLQ', async () => {
    const key = await put();
    const contexts: StorageEventContext[] = [];
    const consumer = source();
    consumer.start(async (messages) => {
      const mine = messages.find((m) => m.events.some((e) => e.key === key));
      if (!mine) return messages;
      contexts.push(mine.context);
      throw new Error('database unavailable');
    });
    const dlqUrl = `${env.SQS_QUEUE_URL}-dlq`;
    await until('the message in the DLQ', async () => (await depth(sqs, dlqUrl)) === 1, 20_000);
    await consumer.stop();
    expect(contexts.map((c) => c.receiveCount)).toEqual([1, 2]);
    expect(await depth(sqs, env.SQS_QUEUE_URL)).toBe(0);
  });

  it('deletes only the messages the handler answers; the others come back', async () => {
    const done = await put();
    const left = await put();
    await until('both events queued', async () => (await depth(sqs, env.SQS_QUEUE_URL)) === 2);
    const deliveries = new Map<string, number>();
    const consumer = source();
    consumer.start(async (messages) => {
      for (const key of keysOf(messages)) deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
      return messages.filter((m) => !m.events.some((e) => e.key === left));
    });
    await until('the unanswered message redelivered', () => (deliveries.get(left) ?? 0) >= 2, 15_000);
    await consumer.stop();
    expect(deliveries.get(done)).toBe(1);
  });

  it('leaves an unreadable message for the DLQ without holding back the rest of its batch', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: env.SQS_QUEUE_URL, MessageBody: 'not json' }));
    const key = await put();
    const seen: string[] = [];
    const consumer = source();
    consumer.start(async (messages) => {
      seen.push(...keysOf(messages));
      return messages;
    });
    const dlqUrl = `${env.SQS_QUEUE_URL}-dlq`;
    await until('the unreadable message in the DLQ', async () => (await depth(sqs, dlqUrl)) === 1, 20_000);
    await consumer.stop();
    expect(seen).toEqual([key]);
    expect(await depth(sqs, env.SQS_QUEUE_URL)).toBe(0);
  });
});
