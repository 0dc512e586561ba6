import { loadConfig, tracingEnv } from '@app/config/schema';
import { tracingPlan } from './plan';

const plan = (env: Record<string, string>) => tracingPlan(loadConfig(tracingEnv, env), 'upload-api');

describe('tracingPlan', () => {
  it('exports nothing with no endpoint, but still propagates traceparent', () => {
    expect(plan({})).toEqual({ mode: 'propagate' });
  });

  it('does nothing at all with OTEL_SDK_DISABLED, endpoint or not', () => {
    expect(plan({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ mode: 'off' });
  });

  it('sends to the base endpoint /v1/traces, as protobuf, under the service name, sampled by the caller', () => {
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      mode: 'export',
      resource: { 'service.name': 'upload-api' },
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      timeoutMs: 10_000,
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
  });

  it('takes the traces endpoint as it is, and the traces settings over the general ones', () => {
    const p = plan({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20general,x-team=uploads',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000',
    });
    expect(p).toMatchObject({
      url: 'https://traces.example.com/otlp',
      protocol: 'http/json',
      headers: { authorization: 'Bearer traces', 'x-team': 'uploads' },
      timeoutMs: 2000,
    });
  });

  it('names the service OTEL_SERVICE_NAME, then a service.name resource attribute, then its own name', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(plan({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod' })).toMatchObject({
      resource: { 'service.name': 'upload-api', 'deployment.environment.name': 'prod' },
    });
    expect(plan({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.name=uploads-eu' })).toMatchObject({ resource: { 'service.name': 'uploads-eu' } });
    expect(plan({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.name=uploads-eu', OTEL_SERVICE_NAME: 'api' })).toMatchObject({
      resource: { 'service.name': 'api' },
    });
  });

  it('exports to the local default only when OTEL_TRACES_EXPORTER=otlp asks, and never with none', () => {
    expect(plan({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ mode: 'export', url: 'http://localhost:4318/v1/traces' });
    expect(plan({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ mode: 'propagate' });
  });

  it('passes the sampler and its ratio on', () => {
    expect(plan({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
    });
  });
});
