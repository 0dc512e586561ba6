import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { currentCarriedContext, nameServerSpan, processingMessage, sendingMessages, traceLogFields } from './request-context';

// What startTracing sets up with an exporter, spans kept in memory instead of sent.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

const queue = { system: 'bullmq', destination: 'webhooks', attributes: { 'messaging.bullmq.job.name': 'webhook.deliver' } };
const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const finished = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name)!;

describe('the carried context', () => {
  it('is empty outside traced work', () => {
    expect(currentCarriedContext()).toEqual({});
    expect(traceLogFields()).toEqual({});
  });

  it('names the span in progress as W3C traceparent', () => {
    trace.getTracer('test').startActiveSpan('request', (span) => {
      const { traceId, spanId } = span.spanContext();
      expect(currentCarriedContext()).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
      expect(traceLogFields()).toEqual({ trace_id: traceId, span_id: spanId, trace_flags: '01' });
      span.end();
    });
  });
});

describe('sendingMessages', () => {
  it('sends in a producer span, handing the messages its context to carry', async () => {
    const carried = await sendingMessages(queue, 3, async (c) => c);
    const send = finished('send webhooks');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toEqual({
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'webhooks',
      'messaging.bullmq.job.name': 'webhook.deliver',
      'messaging.batch.message_count': 3,
    });
    expect(carried.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
  });

  it('marks the span failed when sending fails, and fails as it did', async () => {
    await expect(sendingMessages(queue, 1, () => Promise.reject(new Error('Connection is closed.')))).rejects.toThrow('Connection is closed.');
    expect(finished('send webhooks').status).toEqual({ code: SpanStatusCode.ERROR, message: 'Connection is closed.' });
  });
});

describe('processingMessage', () => {
  it('runs the work in a consumer span whose parent is the sender, linked to it too', async () => {
    const fields = await processingMessage(queue, { traceparent: `00-${caller.traceId}-${caller.spanId}-01` }, async () => traceLogFields());
    const process = finished('process webhooks');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(caller.traceId);
    expect(process.parentSpanContext).toMatchObject({ ...caller, isRemote: true });
    expect(process.links).toEqual([{ context: expect.objectContaining(caller) }]);
    expect(process.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.destination.name': 'webhooks' });
    // Log lines within the work name the job's span.
    expect(fields).toEqual({ trace_id: caller.traceId, span_id: process.spanContext().spanId, trace_flags: '01' });
  });

  it('hands the trace on to the jobs the work enqueues', async () => {
    const carried = await processingMessage(queue, { traceparent: `00-${caller.traceId}-${caller.spanId}-01` }, () =>
      sendingMessages(queue, 1, async (c) => c),
    );
    const process = finished('process webhooks');
    const send = finished('send webhooks');
    expect(send.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(carried.traceparent).toBe(`00-${caller.traceId}-${send.spanContext().spanId}-01`);
  });

  it('starts a trace of its own for a message that carries none (a scheduled job)', async () => {
    await processingMessage(queue, {}, async () => undefined);
    const process = finished('process webhooks');
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.links).toEqual([]);
  });

  it('follows the sender when it did not sample the trace', async () => {
    await processingMessage(queue, { traceparent: `00-${caller.traceId}-${caller.spanId}-00` }, async () => undefined);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('records a failure on the span and fails as the work did', async () => {
    const failure = new Error('receiver answered 500');
    await expect(processingMessage(queue, {}, () => Promise.reject(failure))).rejects.toBe(failure);
    const process = finished('process webhooks');
    expect(process.status).toEqual({ code: SpanStatusCode.ERROR, message: 'receiver answered 500' });
    expect(process.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('does not continue whatever was active where the worker picked the job up', async () => {
    await trace.getTracer('test').startActiveSpan('worker loop', async (loop) => {
      await processingMessage(queue, {}, async () => undefined);
      loop.end();
    });
    expect(finished('process webhooks').parentSpanContext).toBeUndefined();
  });
});

describe('nameServerSpan', () => {
  it('names the request span by its route, and leaves it be when no route matched', () => {
    trace.getTracer('test').startActiveSpan('POST', (span) => {
      nameServerSpan('POST', undefined);
      nameServerSpan('POST', '/v1/uploads/:id/complete');
      span.end();
    });
    expect(finished('POST /v1/uploads/:id/complete').attributes).toEqual({ 'http.route': '/v1/uploads/:id/complete' });
  });
});
