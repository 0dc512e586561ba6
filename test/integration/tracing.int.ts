import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestStorage, envStrings, freePort, ServiceName, ServiceProcess, TestDatabase, testConfig, until } from '@app/testing';

/**
 * W3C trace context and OpenTelemetry (docs/tracing.md) in upload-api and sync-notifier running as
 * real processes, as main.ts starts them: jest loads modules itself, past the require hooks the
 * instrumentations patch http, pg and ioredis through, so only a real process shows them at work.
 * The services come from a build of this test's own (dist/ belongs to the e2e tier). The path:
 * initiating an upload (upload-api) enqueues the webhook delivery of its `upload.created` change,
 * which sync-notifier runs and POSTs to a receiver here.
 */

const ROOT = path.resolve(__dirname, '../..');
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

type OtlpAttribute = { key: string; value: Record<string, unknown> };
interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] }> }>;
  }>;
}

const flat = (attributes: OtlpAttribute[] = []) => Object.fromEntries(attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

/** A collector's OTLP/HTTP receiver, JSON encoding: every span exported to it. */
function otlpReceiver(spans: ExportedSpan[], requests: { count: number }): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.count++;
      for (const { resource, scopeSpans } of (JSON.parse(body) as OtlpTraces).resourceSpans) {
        const service = String(flat(resource.attributes)['service.name']);
        for (const span of scopeSpans.flatMap((scope) => scope.spans))
          spans.push({ ...span, service, attributes: flat(span.attributes), links: span.links ?? [], parentSpanId: span.parentSpanId ?? '' });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The JSON lines a service logged (its output may hold other text, or a line split in two). */
function logLines(service: ServiceProcess): Array<Record<string, any>> {
  return service.output.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, any>];
    } catch {
      return [];
    }
  });
}

describe('tracing: W3C trace context and OpenTelemetry, in the services as real processes', () => {
  const build = path.join(ROOT, '.stack', 'test', `tracing-build-${hex(4)}`);
  const spans: ExportedSpan[] = [];
  const exports = { count: 0 };
  const otlp = otlpReceiver(spans, exports);
  const hits: IncomingHttpHeaders[] = [];
  // Every delivery refused, and WEBHOOK_MAX_ATTEMPTS=1: the job logs that it gave up, in its span.
  const webhooks = createServer((req, res) => {
    hits.push(req.headers);
    req.resume().on('end', () => res.writeHead(500).end());
  });
  let db: TestDatabase;
  let env: Record<string, string>;
  let otlpUrl: string;
  let apiKey: string;
  let running: ServiceProcess[] = [];

  async function start(extra: Record<string, string>): Promise<{ api: ServiceProcess; notifier: ServiceProcess }> {
    const service = async (name: ServiceName) => new ServiceProcess(name, await freePort(), { ...env, ...extra }, build).start();
    running = [await service('upload-api'), await service('sync-notifier')];
    await Promise.all(running.map((s) => s.ready()));
    return { api: running[0], notifier: running[1] };
  }
  /** SIGTERM, as Kubernetes stops a pod: each service sends the spans it still holds, then exits. */
  async function stop(): Promise<void> {
    const stopped = await Promise.all(running.map((s) => s.stop('SIGTERM')));
    expect(stopped.map((s) => s.code)).toEqual(running.map(() => 0));
    running = [];
  }

  async function initiateUpload(api: ServiceProcess, headers: Record<string, string>) {
    const res = await fetch(`${api.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'traced', 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ filename: 'traced.txt', size: 11, contentType: 'text/plain' }),
    });
    expect(res.status).toBe(201);
    return { id: ((await res.json()) as { id: string }).id, requestId: res.headers.get('x-request-id') };
  }

  beforeAll(async () => {
    const cfg = testConfig();
    await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, env: { ...process.env, BUILD_OUT: build } });
    db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
    otlpUrl = await listen(otlp);
    const hookUrl = `${await listen(webhooks)}/hook`;
    env = envStrings({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: 3,
      REDIS_URL: cfg.TEST_REDIS_URL,
      QUEUE_PREFIX: `tracing-${hex(4)}`,
      ...(await createTestStorage(cfg.TEST_MOTO_URL)),
      ADMIN_TOKEN: 'tracing-admin-token-0123456789',
      TOKEN_SIGNING_SECRET: 'tracing-token-signing-secret-0123456789abcdef',
      SHUTDOWN_TIMEOUT_MS: 5_000,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'loopback',
      WEBHOOK_MAX_ATTEMPTS: 1,
    });
    // A tenant and its webhook, kept in the database across the restarts below.
    const { api, notifier } = await start({});
    const tenant = await fetch(`${api.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'traced' }),
    });
    expect(tenant.status).toBe(201);
    apiKey = ((await tenant.json()) as { apiKey: string }).apiKey;
    const hook = await fetch(`${notifier.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hookUrl, events: ['upload.created'] }),
    });
    expect(hook.status).toBe(201);
    await stop();
  });

  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    await Promise.all([otlp, webhooks].map((server) => new Promise((resolve) => server.close(resolve))));
    await db?.drop();
    await rm(build, { recursive: true, force: true });
    // The queues' keys under this test's prefix.
    const redis = new Redis(testConfig().TEST_REDIS_URL);
    const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('with an OTLP endpoint, one trace runs from the caller through the request, its job and the webhook it sends, and log lines name it', async () => {
    const { api, notifier } = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const [traceId, callerSpanId] = [hex(16), hex(8)];
    const upload = await initiateUpload(api, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    await until('the webhook delivery', () => hits.length === 1);
    await until('the delivery to be given up', () => logLines(notifier).some((l) => l.msg === 'webhook delivery given up'));
    await stop();

    const traced = spans.filter((s) => s.traceId === traceId);
    const one = (what: string, match: (s: ExportedSpan) => boolean) => {
      const found = traced.filter(match);
      if (found.length !== 1) throw new Error(`${found.length} spans of ${what} in ${JSON.stringify(traced, null, 1)}`);
      return found[0];
    };
    // The request's span continues the caller's trace, named by its route.
    const server = one('the request', (s) => s.service === 'upload-api' && s.kind === SERVER);
    expect(server).toMatchObject({
      parentSpanId: callerSpanId,
      name: 'POST /v1/uploads',
      attributes: { 'http.route': '/v1/uploads', 'http.response.status_code': 201 },
    });
    // Its queries and Redis commands are spans of it: pg and ioredis were patched as they loaded.
    expect(traced.filter((s) => s.service === 'upload-api' && s.attributes['db.system.name'] === 'postgresql').length).toBeGreaterThan(0);
    // Enqueueing the delivery is a producer span; the job runs in a consumer span parented and linked to it.
    const send = one('the enqueueing', (s) => s.kind === PRODUCER);
    expect(send).toMatchObject({ service: 'upload-api', name: 'send webhooks', parentSpanId: server.spanId, attributes: { 'messaging.system': 'bullmq' } });
    expect(traced.some((s) => s.parentSpanId === send.spanId && s.attributes['db.system.name'] === 'redis')).toBe(true);
    const job = one('the job', (s) => s.kind === CONSUMER);
    expect(job).toMatchObject({
      service: 'sync-notifier',
      name: 'process webhooks',
      parentSpanId: send.spanId,
      links: [expect.objectContaining({ traceId, spanId: send.spanId })],
      attributes: { 'messaging.destination.name': 'webhooks', 'messaging.bullmq.job.name': 'webhook.deliver', 'messaging.bullmq.job.attempt': 1 },
    });
    // The webhook POST is a span of the job, and its receiver is handed the trace.
    const post = one('the webhook POST', (s) => s.kind === CLIENT && s.parentSpanId === job.spanId && s.attributes['url.full'] !== undefined);
    expect(hits[0].traceparent).toBe(`00-${traceId}-${post.spanId}-01`);

    const initiated = logLines(api).find((l) => l.msg === 'upload initiated' && l.fileId === upload.id);
    expect(initiated).toMatchObject({ trace_id: traceId, span_id: server.spanId, req: { id: upload.requestId } });
    const completed = logLines(api).find((l) => l.msg === 'request completed' && l.req?.id === upload.requestId);
    expect(completed).toMatchObject({ trace_id: traceId, span_id: server.spanId });
    const gaveUp = logLines(notifier).find((l) => l.msg === 'webhook delivery given up');
    expect(gaveUp).toMatchObject({ trace_id: traceId, span_id: job.spanId, requestId: upload.requestId });
  });

  it('with no endpoint, nothing is exported, yet the caller’s traceparent reaches the logs and the webhook unchanged', async () => {
    hits.length = 0;
    const exportsBefore = exports.count;
    const { api, notifier } = await start({});
    const [traceId, callerSpanId] = [hex(16), hex(8)];
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const upload = await initiateUpload(api, { traceparent });
    const untraced = await initiateUpload(api, {});
    await until('both webhook deliveries', () => hits.length === 2);
    await until('both deliveries to be given up', () => logLines(notifier).filter((l) => l.msg === 'webhook delivery given up').length === 2);
    await stop();

    // No span of ours is recorded, so the caller's span is the one passed on, flags and all.
    expect(hits.map((h) => h.traceparent)).toContain(traceparent);
    expect(hits.filter((h) => h.traceparent === undefined)).toHaveLength(1);
    expect(logLines(api).find((l) => l.msg === 'upload initiated' && l.fileId === upload.id)).toMatchObject({ trace_id: traceId, span_id: callerSpanId });
    expect(logLines(api).find((l) => l.msg === 'upload initiated' && l.fileId === untraced.id)).not.toHaveProperty('trace_id');
    expect(logLines(notifier).find((l) => l.msg === 'webhook delivery given up' && l.requestId === upload.requestId)).toMatchObject({
      trace_id: traceId,
      span_id: callerSpanId,
    });
    expect(exports.count).toBe(exportsBefore);
  });
});
