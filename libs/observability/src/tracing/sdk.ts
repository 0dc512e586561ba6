import { context, diag, DiagLogger, DiagLogLevel, propagation, Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { loggingErrorHandler, setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { baseEnv, ConfigError, loadConfig } from '@app/config/schema';
import type { BaseEnv } from '@app/config/schema';
import { hideQueryValues, redactUrl } from '../redact';
import { ExportPlan, SamplerName, TracingPlan, tracingPlan } from './plan';

let running: { mode: TracingPlan['mode']; provider?: TracerProvider; unregister: () => void } | null = null;

/** What tracing this process does (`off` until started): the HTTP bootstrap adds what `propagate` needs. */
export function tracingMode(): TracingPlan['mode'] {
  return running?.mode ?? 'off';
}

/**
 * Starts tracing for `service` (docs/tracing.md). It must run before http, pg and ioredis are
 * first required, since the instrumentations patch them as they load: each service's main.ts
 * imports its tracing.ts first. Returns what was started.
 *
 * A bad tracing variable starts nothing here: the service's schema, which includes them all,
 * reports it with every other bad variable a moment later and the process exits.
 */
export function startTracing(service: string, env?: NodeJS.ProcessEnv): TracingPlan {
  if (running) throw new Error('tracing is already started');
  let config: BaseEnv;
  try {
    config = loadConfig(baseEnv, env);
  } catch (error) {
    if (error instanceof ConfigError) return { mode: 'off' };
    throw error;
  }
  const plan = tracingPlan(config, service);
  if (plan.mode === 'off') return plan;

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // W3C trace context only: baggage from callers is not passed on (docs/adr/0029-opentelemetry.md).
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // With no span recorded, the http instrumentation would cost a tenth of upload-api's initiations
  // (npm run bench -- tracing) to pass on a context; a Fastify hook does that in `propagate` mode
  // (continueCallerTrace), and outgoing webhooks inject it themselves (traceHeaders).
  const instrumentations: Instrumentation[] = [];
  let provider: TracerProvider | undefined;
  if (plan.mode === 'export') {
    instrumentations.push(httpInstrumentation());
    const problems = diagnostics(String(plan.resource['service.name']), config.LOG_LEVEL);
    diag.setLogger(problems.diag, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    setGlobalErrorHandler(problems.failed);
    provider = tracerProvider(plan);
    trace.setGlobalTracerProvider(provider);
    // Without a provider their spans would be no-ops anyway: the database and Redis propagate nothing.
    instrumentations.push(
      // Statements as Prisma sends them (placeholders, never the values).
      new PgInstrumentation({ requireParentSpan: true }),
      // Command names only: BullMQ's EVALSHA arguments are whole job payloads.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    );
  }
  running = { mode: plan.mode, provider, unregister: registerInstrumentations({ instrumentations }) };
  return plan;
}

/**
 * Sends the spans still buffered and stops tracing (at shutdown, after the drain). Bounded, so an
 * unreachable collector cannot hold a shutdown past its deadline.
 */
export async function stopTracing(timeoutMs = 3_000): Promise<void> {
  if (!running) return;
  const { provider, unregister } = running;
  running = null;
  unregister();
  if (provider) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([provider.shutdown().catch(() => undefined), deadline]).finally(() => clearTimeout(timer));
  }
  trace.disable();
  propagation.disable();
  context.disable();
  diag.disable();
  setGlobalErrorHandler(loggingErrorHandler());
}

function httpInstrumentation(): HttpInstrumentation {
  return new HttpInstrumentation({
    // Probes and scrapes would be most of the traces (the logs leave them out too).
    ignoreIncomingRequestHook: (request) => isProbe(request.url),
    // A call made outside any traced work (an SQS long poll) would start a trace of its own.
    requireParentforOutgoingSpans: true,
    requestHook: redactSpanUrls,
  });
}

function isProbe(url: string | undefined): boolean {
  const path = url?.split('?')[0] ?? '';
  return path.startsWith('/health/') || path === '/metrics';
}

/** The URLs a span records, as the logs show them: no user token, push secret or webhook secret. */
function redactSpanUrls(span: Span): void {
  const attributes = (span as Partial<{ attributes: Record<string, unknown> }>).attributes;
  if (!attributes) return; // not recording (no exporter, or not sampled)
  const { 'url.full': full, 'url.path': path, 'url.query': query } = attributes;
  if (typeof full === 'string') span.setAttribute('url.full', hideQueryValues(full));
  if (typeof path === 'string') span.setAttribute('url.path', redactUrl(path)!);
  if (typeof query === 'string') span.setAttribute('url.query', redactUrl(`?${query}`)!.slice(1));
}

function tracerProvider(plan: ExportPlan): TracerProvider {
  const options = { url: plan.url, headers: plan.headers, timeoutMillis: plan.timeoutMs };
  const exporter = plan.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtobufExporter(options);
  return new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(plan.resource)),
    sampler: sampler(plan.sampler, plan.ratio),
    spanProcessors: [new BatchSpanProcessor({ exporter, exportTimeoutMillis: plan.timeoutMs })],
  });
}

function sampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** One line per kind of problem while it lasts (a collector that is down), not one per export. */
const REPEAT_AFTER_MS = 30_000;

/**
 * The SDK's own problems (an export that failed, a warning) as the services' JSON log lines, each
 * at most once every 30 s. Nest's logger does not exist yet when tracing starts.
 */
function diagnostics(service: string, level: BaseEnv['LOG_LEVEL']): { diag: DiagLogger; failed: (error: unknown) => void } {
  const logger = pino({ base: { service, context: 'OpenTelemetry' }, level: ['error', 'fatal', 'silent'].includes(level) ? level : 'warn' });
  const last = new Map<string, number>();
  const due = (key: string) => {
    const now = Date.now();
    if (now - (last.get(key) ?? -Infinity) < REPEAT_AFTER_MS) return false;
    last.set(key, now);
    return true;
  };
  const log =
    (at: 'warn' | 'error') =>
    (message: string, ...args: unknown[]) => {
      if (due(message)) logger[at]({ err: args.find((arg) => arg instanceof Error) }, message);
    };
  const ignore = () => undefined;
  return {
    diag: { error: log('error'), warn: log('warn'), info: ignore, debug: ignore, verbose: ignore },
    // What the SDK reports through its global error handler: spans that could not be exported.
    failed: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      if (due(message)) logger.warn({ err: error instanceof Error ? error : undefined }, `tracing: ${message}`);
    },
  };
}
