import { ConfigError, loadConfig } from './load-config';
import { tracingEnv } from './env';

describe('tracingEnv', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(tracingEnv, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('reports every bad tracing variable at once', () => {
    expect(
      problems({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_EXPORTER_OTLP_TIMEOUT: '0',
        OTEL_SDK_DISABLED: 'maybe',
      }),
    ).toEqual([
      expect.stringMatching(/^OTEL_SDK_DISABLED: /),
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL',
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/protobuf or http\/json \(grpc is not supported/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_TIMEOUT: /),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER: /),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER_ARG: /),
    ]);
  });

  it('refuses a header that is not key=value without echoing it (headers carry API keys)', () => {
    const found = problems({ OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=ok,secret-token-without-equals' });
    expect(found).toEqual(['OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value (value percent-encoded)']);
    expect(found.join()).not.toContain('secret-token');
  });

  it('refuses a value that is not valid percent-encoding', () => {
    expect(problems({ OTEL_RESOURCE_ATTRIBUTES: 'team=%E0%A4%A' })).toEqual(['OTEL_RESOURCE_ATTRIBUTES: item 1 is not key=value (value percent-encoded)']);
  });

  it('percent-decodes values and keeps "=" inside them', () => {
    expect(loadConfig(tracingEnv, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20dXNlcjpwYXNz, x-sig=a=b' }).OTEL_EXPORTER_OTLP_HEADERS).toEqual({
      authorization: 'Basic dXNlcjpwYXNz',
      'x-sig': 'a=b',
    });
  });
});
