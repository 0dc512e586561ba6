import type { TracingEnv } from '@app/config/schema';

export type SamplerName = TracingEnv['OTEL_TRACES_SAMPLER'];

/** Where spans go and how they are made, when they are exported. */
export interface ExportPlan {
  mode: 'export';
  /** Resource attributes, `service.name` among them. */
  resource: Record<string, string>;
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  timeoutMs: number;
  sampler: SamplerName;
  /** The traceidratio samplers' ratio. */
  ratio: number;
}

/**
 * What tracing a process does (docs/tracing.md):
 * - `off` (OTEL_SDK_DISABLED): nothing; `traceparent` is neither read nor passed on.
 * - `propagate` (no endpoint, the default): no spans recorded, nothing exported, no background
 *   work; an incoming `traceparent` is still honoured, so the caller's trace id reaches the logs,
 *   the jobs and the outgoing calls unchanged.
 * - `export`: spans recorded (by the sampler) and sent to an OTLP/HTTP collector.
 */
export type TracingPlan = { mode: 'off' } | { mode: 'propagate' } | ExportPlan;

/** The OTLP exporter specification's default timeout. */
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function tracingPlan(env: TracingEnv, service: string): TracingPlan {
  if (env.OTEL_SDK_DISABLED) return { mode: 'off' };
  const url = tracesUrl(env);
  if (!url) return { mode: 'propagate' };
  return {
    mode: 'export',
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the SDK specification);
    // the service's own name is the default of both.
    resource: { 'service.name': service, ...env.OTEL_RESOURCE_ATTRIBUTES, ...(env.OTEL_SERVICE_NAME ? { 'service.name': env.OTEL_SERVICE_NAME } : {}) },
    url,
    protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    headers: { ...env.OTEL_EXPORTER_OTLP_HEADERS, ...env.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT ?? DEFAULT_TIMEOUT_MS,
    sampler: env.OTEL_TRACES_SAMPLER,
    ratio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}

/**
 * Where spans are sent, as the OTLP exporter specification derives it: the signal's own URL as it
 * is, else the base URL with /v1/traces. No endpoint: nothing is exported. Unlike the
 * specification, http://localhost:4318 is assumed only when OTEL_TRACES_EXPORTER=otlp asks for it,
 * so a service nobody configured for tracing does not keep trying to reach a collector.
 */
function tracesUrl(env: TracingEnv): string | undefined {
  if (env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? (env.OTEL_TRACES_EXPORTER === 'otlp' ? DEFAULT_ENDPOINT : undefined);
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}
