import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { StorageEvent } from '@app/domain';
import { createSqsClient, FastPresigner, StorageEventContext, StorageEventSource } from '@app/storage';
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
    new StorageEventSource(sqs, { queueUrl: env.SQS_QUEUE_URL, batchSize: 10, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, drainTimeoutMs });

  it('delivers decoded events and deletes each message once the handler resolved', async () => {
    const key = await put('with space+plus');
    const seen: StorageEvent[] = [];
    const consumer = source();
    consumer.start(async (events) => void seen.push(...events));
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
    consumer.start(async (events) => {
      if (!events.some((e) => e.key === key)) return;
      started = true;
      await gate; // longer than the 2 s visibility timeout: the heartbeat must keep it hidden
      finished++;
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
    consumer.start(async (events, context) => {
      if (!events.some((e) => e.key === key)) return;
      contexts.push(context);
      throw new Error('database unavailable');
    });
    const dlqUrl = `${env.SQS_QUEUE_URL}-dlq`;
    await until('the message in the DLQ', async () => (await depth(sqs, dlqUrl)) === 1, 20_000);
    await consumer.stop();
    expect(contexts.map((c) => c.receiveCount)).toEqual([1, 2]);
    expect(await depth(sqs, env.SQS_QUEUE_URL)).toBe(0);
  });
});
