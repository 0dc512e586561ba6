import { DynamicModule, Logger as NestLogger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { z } from 'zod';
import { ConfigError, loadConfig } from '@app/config';
import type { BaseEnv } from '@app/config';
import { continueCallerTrace, Lifecycle, MetricsService, nameServerSpan, requestIdOf } from '@app/observability';
import { stopTracing, tracingMode } from '@app/observability/tracing';
import { useJsonBodyParser } from './json-body';
import { ProblemFilter, sendProblem } from './problem.filter';

export interface HttpServiceOptions {
  port: number;
  host: string;
  /** How long SIGTERM may take before the process gives up and exits non-zero. */
  shutdownTimeoutMs: number;
  /** Largest JSON body accepted; metadata only ever passes through this API, never file bytes. */
  bodyLimitBytes?: number;
  /** Extra setup before listening (OpenAPI, WebSocket adapter, ...). */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/** Builds a service's Nest app on Fastify with the platform's logging, errors and metrics. */
export type AppEntry = Type<unknown> | DynamicModule;

export async function createHttpApp(module: AppEntry, options: Pick<HttpServiceOptions, 'bodyLimitBytes' | 'configure'> = {}): Promise<NestFastifyApplication> {
  const logger = new NestLogger('Http');
  const adapter = new FastifyAdapter({
    trustProxy: true,
    // Errors Fastify meets while routing (a path parameter past its length limit, a malformed
    // URL) answer as problem documents like every other.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendProblem(reply, request, error, logger),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Fastify's default (100) is shorter than a user token, which Uppy 6 carries as a path
    // parameter (/companion/t/{userToken}); longer parameters still answer 414.
    routerOptions: { maxParamLength: 1024 },
    genReqId: requestIdOf,
    // Keep-alive sockets would hold a graceful close open; idle ones are closed at once.
    forceCloseConnections: 'idle',
  });
  // JSON only: Nest's extra parsers (form bodies) are off, and Fastify's text/plain parser is
  // removed, so any other content type answers 415 (api-v1.md: JSON bodies).
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true, abortOnError: false, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ProblemFilter());

  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  useJsonBodyParser(fastify);
  // Errors Fastify raises before a Nest handler runs (malformed JSON, body too large, bad content
  // type) reach ProblemFilter through the error handler Nest sets on Fastify at init. Setting one
  // here too was overridden by Nest's, and made Fastify print a non-JSON warning (FSTWRN004).

  // The caller's trace context, when no span of ours carries it (docs/tracing.md).
  if (tracingMode() === 'propagate') fastify.addHook('onRequest', (request, _reply, done) => continueCallerTrace(request.headers, done));

  // Echo the request id (the caller's, or the one minted for it) so clients can quote it; name
  // the request's span by its route (docs/tracing.md).
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    nameServerSpan(request.method, request.routeOptions.url);
  });

  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await options.configure?.(app);
  return app;
}

/**
 * Starts a service: listen, then on SIGTERM/SIGINT report not-ready, drain in-flight work
 * (queue workers and the SQS consumer finish or hand back what they hold) and exit 0.
 */
export async function runHttpService(module: AppEntry, name: string, options: HttpServiceOptions): Promise<NestFastifyApplication> {
  const app = await createHttpApp(module, options);
  await app.listen(options.port, options.host);
  const logger = new NestLogger(name);
  logger.log({ port: options.port }, `${name} listening`);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log({ signal }, 'draining');
    app.get(Lifecycle).startDraining();
    const guard = setTimeout(() => {
      logger.error({ timeoutMs: options.shutdownTimeoutMs }, 'shutdown did not finish in time');
      process.exit(1);
    }, options.shutdownTimeoutMs + 5_000);
    guard.unref();
    try {
      await app.close();
      logger.log('stopped');
      // The spans of the last work, still buffered, before the process goes.
      await stopTracing();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
  return app;
}

export interface ServiceDefinition {
  module: AppEntry;
  port: number;
  bodyLimitBytes?: number;
  configure?: HttpServiceOptions['configure'];
}

/**
 * A service's main(): parse the environment once (every bad variable reported together, exit 1),
 * then build and run the app.
 */
export async function runService<S extends z.ZodType<BaseEnv>>(name: string, schema: S, define: (config: z.infer<S>) => ServiceDefinition): Promise<void> {
  let config: z.infer<S>;
  try {
    config = loadConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(1);
  }
  const definition = define(config);
  try {
    await runHttpService(definition.module, name, {
      port: definition.port,
      host: config.HOST,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      bodyLimitBytes: definition.bodyLimitBytes,
      configure: definition.configure,
    });
  } catch (error) {
    process.stderr.write(`${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
