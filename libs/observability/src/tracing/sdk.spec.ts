import { propagation, trace } from '@opentelemetry/api';
import { startTracing, stopTracing } from './sdk';

afterEach(() => stopTracing());

describe('startTracing', () => {
  it('starts nothing on a bad variable, which the service schema then reports with the rest', () => {
    expect(startTracing('upload-api', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({ mode: 'off' });
    expect(propagation.fields()).toEqual([]);
  });

  it('starts nothing at all with OTEL_SDK_DISABLED', () => {
    expect(startTracing('upload-api', { OTEL_SDK_DISABLED: 'true' })).toEqual({ mode: 'off' });
    expect(propagation.fields()).toEqual([]);
  });

  it('with no endpoint passes W3C trace context on but records no span', () => {
    expect(startTracing('upload-api', {})).toEqual({ mode: 'propagate' });
    expect(propagation.fields()).toEqual(['traceparent', 'tracestate']);
    expect(trace.getTracer('test').startSpan('work').isRecording()).toBe(false);
  });

  it('refuses to start twice', () => {
    startTracing('upload-api', {});
    expect(() => startTracing('upload-api', {})).toThrow('tracing is already started');
  });

  it('stops, leaving the process as it was', async () => {
    startTracing('upload-api', {});
    await stopTracing();
    expect(propagation.fields()).toEqual([]);
  });
});
