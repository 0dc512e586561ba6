import { randomBytes } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client } from 'pg';
import { createSqsClient } from '@app/storage';
import { createTestStorage, envStrings, freePort, ServiceProcess, sleep, StorageTestEnv, testPresigner } from '@app/testing';

const DRAIN_TIMEOUT_MS = 120_000;

export interface PendingUpload {
  storageKey: string;
  size: number;
}

export interface DrainResult {
  /** Storage events chunk-tracker committed per second, first commit to last. */
  trackerEventsPerSecond: number;
  /** Messages a bare ReceiveMessage(10) + DeleteMessageBatch loop drained per second. */
  bareEventsPerSecond: number;
  /** The same loop, also HEADing each message's object (the storage calls the tracker must make). */
  bareWithHeadEventsPerSecond: number;
  /** Events chunk-tracker committed (all of them unless it ran past the drain timeout). */
  handled: number;
  /** How many of the uploads chunk-tracker moved to `uploaded` (all of them, when it did its job). */
  uploaded: number;
  /** chunk-tracker's process start to the last commit, boot included. */
  trackerWallSeconds: number;
}

/** Parallel map with at most `width` in flight. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

async function visibleMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** An S3 ObjectCreated:Put notification as S3 (and moto) puts it on the queue. */
function s3EventBody(bucket: string, upload: PendingUpload, i: number): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'bench',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: upload.storageKey, size: upload.size, eTag: randomBytes(16).toString('hex'), sequencer: i.toString(16).padStart(16, '0') },
        },
      },
    ],
  });
}

/**
 * The baseline: the same number of S3-event messages drained by a bare receive + batch-delete loop;
 * with `s3`, the loop also HEADs each message's object before the delete, as the tracker does.
 */
async function bareDrain(sqs: SQSClient, bucket: string, uploads: PendingUpload[], s3?: S3Client): Promise<number> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-bare-${randomBytes(4).toString('hex')}` }));
  const queueUrl = QueueUrl!;
  try {
    const batches: PendingUpload[][] = [];
    for (let i = 0; i < uploads.length; i += 10) batches.push(uploads.slice(i, i + 10));
    await inParallel(batches, 8, async (batch) => {
      await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((u, j) => ({ Id: String(j), MessageBody: s3EventBody(bucket, u, j) })) }),
      );
    });
    const start = performance.now();
    let drained = 0;
    while (drained < uploads.length) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) continue;
      if (s3) {
        const keys = Messages.map((m) => (JSON.parse(m.Body!) as { Records: Array<{ s3: { object: { key: string } } }> }).Records[0].s3.object.key);
        await Promise.all(keys.map((key) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))));
      }
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }),
      );
      drained += Messages.length;
    }
    return drained / ((performance.now() - start) / 1000);
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  }
}

/**
 * chunk-tracker draining real S3 events vs a bare receive + delete loop on the same emulator.
 * The objects of `uploads` (pending single-PUT uploads of the bench database) are PUT into a fresh
 * bucket whose notifications feed a fresh queue, so each message is an ObjectCreated:Put storage
 * itself sent, and the tracker does its real work for each batch: one read of its files, a HEAD
 * per event, one transaction for its steps and ledger rows, its verify jobs. Timed from its first commit to its last (boot excluded),
 * from the events' own ledger rows.
 */
export async function trackerDrain(opts: { motoUrl: string; env: Record<string, string>; sql: Client; uploads: PendingUpload[] }): Promise<DrainResult> {
  const storage: StorageTestEnv = await createTestStorage(opts.motoUrl, { visibilityTimeoutSeconds: 30 });
  const sqs = createSqsClient(storage);
  const { presigner, s3 } = testPresigner(storage);
  let tracker: ServiceProcess | undefined;
  try {
    const putStart = performance.now();
    const body = new Uint8Array(Math.max(...opts.uploads.map((u) => u.size)));
    await inParallel(opts.uploads, 16, async (u) => {
      const put = await presigner.putObject(u.storageKey, { contentType: 'application/octet-stream', contentLength: u.size });
      const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: body.subarray(0, u.size) });
      if (res.status !== 200) throw new Error(`PUT ${u.storageKey} answered ${res.status}: ${await res.text()}`);
    });
    const deadline = Date.now() + 60_000;
    while ((await visibleMessages(sqs, storage.SQS_QUEUE_URL)) < opts.uploads.length) {
      if (Date.now() > deadline) throw new Error('the emulator did not deliver an event for every PUT within 60 s');
      await sleep(200);
    }

    process.stdout.write(`  ${opts.uploads.length} objects stored, their events queued in ${((performance.now() - putStart) / 1000).toFixed(1)} s\n`);
    const bareEventsPerSecond = await bareDrain(sqs, storage.S3_BUCKET, opts.uploads);
    process.stdout.write(`  bare receive + delete loop: ${bareEventsPerSecond.toFixed(1)} messages/s\n`);
    const bareWithHeadEventsPerSecond = await bareDrain(sqs, storage.S3_BUCKET, opts.uploads, s3);
    process.stdout.write(`  bare receive + HEAD + delete loop: ${bareWithHeadEventsPerSecond.toFixed(1)} messages/s\n`);

    const started = performance.now();
    tracker = new ServiceProcess('chunk-tracker', await freePort(), { ...opts.env, ...envStrings(storage), SQS_WAIT_SECONDS: '20' }).start();
    const ledger = async () => {
      const { rows } = await opts.sql.query<{ n: string; first: Date | null; last: Date | null }>(
        `SELECT count(*) AS n, min(processed_at) AS first, max(processed_at) AS last FROM processed_storage_events WHERE event_key LIKE $1`,
        [`${storage.S3_BUCKET}/%`],
      );
      return { n: Number(rows[0].n), first: rows[0].first, last: rows[0].last };
    };
    // Bounded: a tracker slower than this is reported at the rate it managed, not waited for.
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    let state = await ledger();
    while (state.n < opts.uploads.length && Date.now() < drainDeadline) {
      await sleep(100);
      state = await ledger();
    }
    if (state.n < 2) throw new Error(`chunk-tracker handled ${state.n} of ${opts.uploads.length} events in ${DRAIN_TIMEOUT_MS / 1000} s`);
    const trackerWallSeconds = (performance.now() - started) / 1000;
    process.stdout.write(`  chunk-tracker: ${state.n} events committed in ${trackerWallSeconds.toFixed(1)} s from its start\n`);
    const seconds = (state.last!.getTime() - state.first!.getTime()) / 1000;
    const { rows } = await opts.sql.query<{ n: string }>(`SELECT count(*) AS n FROM files WHERE storage_key = ANY($1) AND status = 'uploaded'`, [
      opts.uploads.map((u) => u.storageKey),
    ]);
    return {
      trackerEventsPerSecond: (state.n - 1) / seconds,
      bareEventsPerSecond,
      bareWithHeadEventsPerSecond,
      handled: state.n,
      uploaded: Number(rows[0].n),
      trackerWallSeconds,
    };
  } finally {
    await tracker?.stop();
    sqs.destroy();
    s3.destroy();
  }
}
