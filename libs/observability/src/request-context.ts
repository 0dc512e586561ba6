import { Attributes, context, isSpanContextValid, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, TextMapSetter, trace } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';

/**
 * What work carries into the work it starts, a job's payload (issue #16, docs/tracing.md): the
 * request id its lines are logged under, and the W3C trace context its spans continue.
 */
export interface CarriedContext {
  requestId?: string;
  traceparent?: string;
  tracestate?: string;
}

/**
 * The request id of the work in progress (issue #16): the HTTP request's inside a request, or the
 * one a job or a storage event is run under (`withRequestId`). nestjs-pino keeps the logger of the
 * work in an AsyncLocalStorage; its bindings hold the id.
 */
export function currentRequestId(): string | undefined {
  const bindings = storage.getStore()?.logger.bindings() as { requestId?: unknown; req?: { id?: unknown } } | undefined;
  const id = bindings?.requestId ?? bindings?.req?.id;
  return typeof id === 'string' ? id : undefined;
}

/** Only the W3C fields: a propagator added later must not grow every job payload unnoticed. */
const w3cOnly: TextMapSetter<CarriedContext> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/** The W3C trace context of the work in progress (`traceparent`, `tracestate`), where there is one. */
function currentTraceContext(): Pick<CarriedContext, 'traceparent' | 'tracestate'> {
  const carried: CarriedContext = {};
  propagation.inject(context.active(), carried, w3cOnly);
  return carried;
}

/** The context of the work in progress, for the work it starts to carry. */
export function currentCarriedContext(): CarriedContext {
  const requestId = currentRequestId();
  return { ...(requestId ? { requestId } : {}), ...currentTraceContext() };
}

/**
 * Runs `work` under `requestId`: every line logged by a Nest Logger within it carries the id, and
 * every job it enqueues carries it on (JobQueue). No id (a file from before ids were recorded, a
 * timer's own work): `work` runs as it is.
 */
export function withRequestId<T>(requestId: string | null | undefined, work: () => T): T {
  if (!requestId || !PinoLogger.root) return work();
  return storage.run(new Store(PinoLogger.root.child({ requestId })), work);
}

/** A span about messages, named and attributed by OpenTelemetry's messaging conventions. */
export interface MessagingSpan {
  /** `bullmq` */
  system: string;
  /** The queue. */
  destination: string;
  /** More attributes: the message id, the job's name, its attempt. */
  attributes?: Attributes;
}

const tracer = () => trace.getTracer('upload-platform');

/**
 * Sends messages (enqueues jobs) in a PRODUCER span, `send <queue>`: `send` is given the context
 * the messages are to carry, the request id and this span, which their consumers' spans continue.
 */
export function sendingMessages<T>(span: MessagingSpan, count: number, send: (carried: CarriedContext) => Promise<T>): Promise<T> {
  const attributes = messagingAttributes(span, 'send', count > 1 ? { 'messaging.batch.message_count': count } : {});
  return tracer().startActiveSpan(`send ${span.destination}`, { kind: SpanKind.PRODUCER, attributes }, (producer) =>
    ended(producer, () => send(currentCarriedContext())),
  );
}

/**
 * Runs the processing of one message (a job) under the context it carries: its lines logged under
 * its request id, within a CONSUMER span, `process <queue>`, whose parent is the span that sent it
 * (one trace from the request through its jobs) and which links to it too, as the messaging
 * conventions ask of every consumer. A message that carries no trace context starts a trace.
 */
export function processingMessage<T>(span: MessagingSpan, carried: CarriedContext, work: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, carried);
  const sender = trace.getSpanContext(parent);
  const links = sender && isSpanContextValid(sender) ? [{ context: sender }] : [];
  const attributes = messagingAttributes(span, 'process');
  return withRequestId(carried.requestId, () =>
    tracer().startActiveSpan(`process ${span.destination}`, { kind: SpanKind.CONSUMER, attributes, links }, parent, (consumer) => ended(consumer, work)),
  );
}

function messagingAttributes(span: MessagingSpan, operation: 'send' | 'process', more: Attributes = {}): Attributes {
  return {
    'messaging.system': span.system,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': span.destination,
    ...span.attributes,
    ...more,
  };
}

async function ended<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Continues the caller's trace through a request when no span of ours is recorded (tracing's
 * `propagate` mode, docs/tracing.md): the caller's context is the request's for the rest of its
 * handling (`next`, a Fastify hook's `done`), so its log lines and jobs carry it, as they carry
 * the request id (nestjs-pino's store, entered the same way). When spans are recorded the http
 * instrumentation does this, with a server span of ours as the parent instead.
 */
export function continueCallerTrace(headers: IncomingHttpHeaders, next: () => void): void {
  if (!headers.traceparent) return next();
  const caller = propagation.extract(ROOT_CONTEXT, headers);
  if (!trace.getSpanContext(caller)) return next();
  context.with(caller, next);
}

/**
 * `headers` with the trace context of the work in progress (`traceparent`, `tracestate`), for an
 * outgoing call that no instrumentation injects (webhooks in `propagate` mode). With spans recorded
 * the http instrumentation replaces it with its client span's.
 */
export function traceHeaders(headers: Record<string, string>): Record<string, string> {
  return { ...headers, ...currentTraceContext() };
}

/**
 * Names the server span of the request in progress by its route (`GET /v1/uploads/:id`), which
 * Fastify knows and the http instrumentation does not.
 */
export function nameServerSpan(method: string, route: string | undefined): void {
  const span = trace.getActiveSpan();
  if (!route || !span?.isRecording()) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

/**
 * The trace fields of a log line (the pino mixin): the trace and span of the work in progress, so a
 * line leads to its trace and back; none outside traced work. With no exporter these are the
 * caller's own (its `traceparent`), since no span of ours is recorded.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: span.traceFlags.toString(16).padStart(2, '0') };
}
