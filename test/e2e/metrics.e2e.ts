import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawnSync } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { ALL_SERVICES, createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

type Service = (typeof ALL_SERVICES)[number];
type Samples = Map<string, number>;

/**
 * What ops see (issue #16, docs/monitoring.md): after real work through all four services
 * (uploads that complete, one refused, one expired, a webhook delivered, a message in the DLQ),
 * each service's /metrics holds the series the alerts and the dashboard read, with samples where
 * the work happened, and passes `promtool check metrics`.
 */
describe('the metrics after real work', () => {
  let stack: E2eStack;
  let receiver: Server;
  const scraped = new Map<Service, { text: string; samples: Samples }>();

  /** Every sample of a scrape, keyed by its series as written (name{labels}). */
  const parse = (text: string): Samples =>
    new Map(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => {
          const at = l.lastIndexOf(' ');
          return [l.slice(0, at), Number(l.slice(at + 1))] as const;
        }),
    );

  /** The sum of a series' samples whose labels include `labels` (every sample's carries service). */
  const value = (service: Service, name: string, labels: Record<string, string> = {}): number | undefined => {
    let found: number | undefined;
    for (const [series, v] of scraped.get(service)!.samples) {
      const brace = series.indexOf('{');
      if ((brace < 0 ? series : series.slice(0, brace)) !== name) continue;
      if (!Object.entries(labels).every(([k, l]) => series.includes(`${k}="${l}"`))) continue;
      found = (found ?? 0) + v;
    }
    return found;
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack = await startStack({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'loopback', RECONCILE_INTERVAL_MS: '1000' } });
    const tenant = await createTenant(stack, { name: 'metrics', allowedTypes: ['image/*', 'application/octet-stream'] });
    const client = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'ops' });
    const hooks = new RawClient(stack.service('sync-notifier').url, { authorization: `Bearer ${tenant.apiKey}` });
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await hooks.call('POST', '/v1/webhooks', { url: hookUrl, events: ['file.ready'] })).status).toBe(201);

    // An image, stored and processed: a completed upload, jobs in three queues, a webhook.
    const png = await sharp({ create: { width: 80, height: 60, channels: 3, background: '#36c' } })
      .png()
      .toBuffer();
    const image = await client.call('POST', '/v1/uploads', { filename: 'blue.png', size: png.length, contentType: 'image/png' });
    const put = await fetch(image.body.upload.url, { method: 'PUT', headers: image.body.upload.headers, body: new Uint8Array(png) });
    expect(put.status).toBe(200);

    // A refused initiation (a type the tenant does not take), and an upload left to expire: its
    // deadline is moved into the past, as time would, and the reconciler (every second) ends it.
    expect((await client.call('POST', '/v1/uploads', { filename: 'a.txt', size: 5, contentType: 'text/plain' })).status).toBe(415);
    const abandoned = await client.call('POST', '/v1/uploads', { filename: 'left.bin', size: 10, contentType: 'application/octet-stream' });
    await stack.sql(`UPDATE files SET expires_at = now() - interval '1 minute' WHERE id = $1`, [abandoned.body.id]);

    // A message in the DLQ, where the redrive policy would have put a poison message after
    // maxReceiveCount deliveries (minutes with the tier's visibility timeout).
    const sqs = new SQSClient({
      endpoint: stack.env.SQS_ENDPOINT || stack.storage.S3_ENDPOINT,
      region: stack.storage.S3_REGION,
      credentials: { accessKeyId: stack.storage.AWS_ACCESS_KEY_ID!, secretAccessKey: stack.storage.AWS_SECRET_ACCESS_KEY! },
    });
    const dlq = await sqs.send(new GetQueueUrlCommand({ QueueName: `${stack.env.SQS_QUEUE_URL.split('/').pop()!}-dlq` }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq.QueueUrl, MessageBody: 'not an S3 event' }));
    sqs.destroy();

    await until('the image ready', async () => ((await client.call('GET', `/v1/uploads/${image.body.id}`)).body.status === 'ready' ? true : null), 30_000, 100);
    await until(
      'the upload expired',
      async () => ((await client.call('GET', `/v1/uploads/${abandoned.body.id}`)).body.status === 'expired' ? true : null),
      20_000,
      200,
    );
    await until(
      'the webhook delivered',
      async () => ((await stack.sql(`SELECT 1 FROM webhook_deliveries WHERE status = 'succeeded'`)).length ? true : null),
      20_000,
      100,
    );
    for (const name of ALL_SERVICES) {
      const text = await (await fetch(`${stack.service(name).url}/metrics`)).text();
      scraped.set(name, { text, samples: parse(text) });
    }
  });

  afterAll(async () => {
    await stack?.stop();
    receiver?.close();
  });

  it.each(ALL_SERVICES)('%s passes promtool check metrics (prom-client’s own process and GC series aside)', (name) => {
    const out = spawnSync('promtool', ['check', 'metrics'], { input: scraped.get(name)!.text, encoding: 'utf8' });
    if (out.error) throw new Error(`promtool is needed (apt-get install prometheus): ${out.error.message}`);
    // prom-client's defaults name some series its own way (e.g. nodejs_gc_duration_seconds has
    // no _total counter); they are the library's, not ours.
    const ours = `${out.stdout}${out.stderr}`
      .split('\n')
      .filter((l) => l.trim())
      .filter((l) => !/^(nodejs_|process_)/.test(l));
    expect(ours).toEqual([]);
  });

  it.each(ALL_SERVICES)('%s reports its HTTP requests and its database pool', (name) => {
    expect(value(name, 'http_request_duration_seconds_count')).toBeGreaterThan(0);
    expect(value(name, 'db_pool_max_connections')).toBe(5);
    expect(value(name, 'db_pool_connections', { state: 'idle' })).toBeGreaterThan(0);
    expect(value(name, 'db_pool_connections', { state: 'active' })).toBeGreaterThanOrEqual(0);
    expect(value(name, 'db_pool_waiting_requests')).toBe(0);
  });

  it('upload-api counts initiations by mode and refusals by reason', () => {
    expect(value('upload-api', 'uploads_initiated_total', { mode: 'single' })).toBeGreaterThanOrEqual(2);
    expect(value('upload-api', 'uploads_rejected_total', { reason: 'type_not_allowed' })).toBe(1);
  });

  it('chunk-tracker counts completions, bytes and expiries, and measures its queues, the uploads in completing and the bucket’s posture', () => {
    expect(value('chunk-tracker', 'uploads_completed_total')).toBeGreaterThanOrEqual(1);
    expect(value('chunk-tracker', 'uploads_completed_bytes_total')).toBeGreaterThan(0);
    expect(value('chunk-tracker', 'uploads_expired_total')).toBe(1);
    expect(value('chunk-tracker', 'sqs_messages', { queue: 'dlq', state: 'visible' })).toBe(1);
    expect(value('chunk-tracker', 'sqs_messages', { queue: 'events', state: 'visible' })).toBeGreaterThanOrEqual(0);
    expect(value('chunk-tracker', 'sqs_messages', { queue: 'events', state: 'in_flight' })).toBeGreaterThanOrEqual(0);
    expect(value('chunk-tracker', 'sqs_oldest_message_age_seconds', { queue: 'events' })).toBeGreaterThanOrEqual(0);
    expect(value('chunk-tracker', 'uploads_completing')).toBe(0);
    expect(value('chunk-tracker', 'uploads_completing_oldest_age_seconds')).toBe(0);
    expect(value('chunk-tracker', 'storage_events_total', { event: 'ObjectCreated:Put' })).toBeGreaterThanOrEqual(1);
    expect(value('chunk-tracker', 'queue_jobs_processed_total', { queue: 'tracker', job: 'uploads.reconcile', outcome: 'completed' })).toBeGreaterThan(0);
    expect(value('chunk-tracker', 'queue_jobs', { queue: 'tracker', state: 'waiting' })).toBeGreaterThanOrEqual(0);
    // The bucket as the bootstrap set it, read back at start (StorageBucket* alerts).
    expect(value('chunk-tracker', 'storage_bucket_drift', { setting: 'public-access-block' })).toBe(0);
    expect(value('chunk-tracker', 'storage_bucket_posture_unreadable', { setting: 'public-access-block' })).toBe(0);
  });

  it('media-processor counts its jobs, their durations and each queue’s backlog', () => {
    for (const [queue, job] of [
      ['media-verify', 'media.verify'],
      ['media-image', 'media.image'],
    ]) {
      expect(value('media-processor', 'queue_jobs_processed_total', { queue, job, outcome: 'completed' })).toBeGreaterThan(0);
      expect(value('media-processor', 'queue_job_duration_seconds_count', { queue, job })).toBeGreaterThan(0);
    }
    for (const queue of ['media-verify', 'media-scan', 'media-image', 'media-video', 'media-transcode'])
      for (const state of ['waiting', 'active', 'delayed', 'failed'])
        expect(value('media-processor', 'queue_jobs', { queue, state })).toBeGreaterThanOrEqual(0);
  });

  it('sync-notifier counts webhook attempts and measures their duration and lag', () => {
    expect(value('sync-notifier', 'webhook_attempts_total', { status: 'succeeded' })).toBeGreaterThanOrEqual(1);
    // Registered at 0, so the first dead delivery is an increase the alert sees.
    expect(value('sync-notifier', 'webhook_attempts_total', { status: 'dead' })).toBe(0);
    expect(value('sync-notifier', 'webhook_delivery_duration_seconds_count', { status: 'succeeded' })).toBeGreaterThanOrEqual(1);
    expect(value('sync-notifier', 'webhook_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('sync-notifier', 'queue_jobs_processed_total', { queue: 'webhooks', job: 'webhook.deliver', outcome: 'completed' })).toBeGreaterThanOrEqual(1);
  });
});
