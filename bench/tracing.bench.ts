import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { freePort, ServiceProcess } from '@app/testing';
import { benchStack } from './bench-stack';
import { load, LoadResult, RequestShape } from './control/load';
import { round } from './presign.bench';

const CONNECTIONS = 32;
const SECONDS = 5;
const ROUNDS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** An OTLP/HTTP receiver that takes every export and answers 200, counting what it was sent. */
class OtlpSink {
  private server: Server | null = null;
  exports = 0;
  bytes = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      req.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
      req.on('end', () => {
        this.exports++;
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Single-PUT initiations of 1 KiB, each from a caller in a trace of its own (a traced gateway's `traceparent`). */
function tracedInitiations(apiKey: string): RequestShape {
  let i = 0;
  return {
    method: 'POST',
    path: '/v1/uploads',
    next: () => ({
      headers: {
        authorization: `Bearer ${apiKey}`,
        'x-owner-id': `owner-${i % 64}`,
        'content-type': 'application/json',
        traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ filename: `traced-${i++}.bin`, size: 1024, contentType: 'application/octet-stream' }),
    }),
  };
}

/**
 * Issue #16: what tracing costs upload-api (docs/tracing.md). Three upload-api processes on one
 * database, loaded one at a time in alternating rounds (median of 3): tracing off
 * (OTEL_SDK_DISABLED, the baseline), the default with no endpoint (the caller's context
 * propagated, no span recorded), and every span recorded and exported (always_on) over OTLP/HTTP
 * to a receiver in this process. Initiations under 32 connections, each with a `traceparent`.
 */
export async function benchTracing(): Promise<Record<string, number>> {
  const sink = new OtlpSink();
  const endpoint = await sink.start();
  const { env } = await benchStack({ RATE_LIMIT_PER_MINUTE: 0, API_KEY_RATE_LIMIT_PER_MINUTE: 0 });
  const modes = {
    off: { OTEL_SDK_DISABLED: 'true' },
    propagate: {},
    export: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' },
  };
  const apis = Object.fromEntries(
    await Promise.all(
      Object.entries(modes).map(async ([mode, extra]) => [mode, new ServiceProcess('upload-api', await freePort(), { ...env, ...extra }).start()] as const),
    ),
  ) as Record<keyof typeof modes, ServiceProcess>;
  const r: Record<string, number> = {};
  try {
    await Promise.all(Object.values(apis).map((api) => api.ready()));
    const res = await fetch(`${apis.off.url}/v1/admin/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tracing-bench', quotaBytes: Number.MAX_SAFE_INTEGER }),
    });
    const { apiKey } = (await res.json()) as { apiKey: string };
    const shape = tracedInitiations(apiKey);

    for (const api of Object.values(apis)) await load(api.url, shape, { connections: CONNECTIONS, seconds: 1 }); // warm-up
    const runs: Record<string, LoadResult[]> = { off: [], propagate: [], export: [] };
    for (let n = 0; n < ROUNDS; n++)
      for (const [mode, api] of Object.entries(apis)) runs[mode].push(await load(api.url, shape, { connections: CONNECTIONS, seconds: SECONDS }));

    let failures = 0;
    for (const [mode, results] of Object.entries(runs)) {
      r[`${mode}Rps`] = round(median(results.map((x) => x.rps)), 1);
      r[`${mode}P99Ms`] = round(median(results.map((x) => x.p99Ms)), 1);
      failures += results.reduce((sum, x) => sum + x.failures, 0);
      process.stdout.write(`  ${mode}: ${r[`${mode}Rps`]} initiations/s, p99 ${r[`${mode}P99Ms`]} ms\n`);
    }
    if (failures) throw new Error(`${failures} requests failed`);
    // The export mode must really have exported, or its figure measures nothing.
    await apis.export.stop(); // flushes what is buffered
    if (!sink.exports) throw new Error('no span reached the OTLP receiver');
    r.exportRequests = sink.exports;
    r.exportKiB = round(sink.bytes / 1024, 0);
    r.propagateVsOff = round(r.propagateRps / r.offRps, 4);
    r.exportVsOff = round(r.exportRps / r.offRps, 4);
  } finally {
    await Promise.all(Object.values(apis).map((api) => api.stop()));
    await sink.stop();
  }
  return r;
}
