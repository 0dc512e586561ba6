import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { redactUrl } from './redact';
import { traceLogFields } from './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithId = IncomingMessage & { id?: unknown };

/**
 * Keeps a caller's request id when it is sane, so ids flow across services; otherwise mints one.
 * The id is kept on the raw request, so Fastify's request.id and the log lines agree.
 */
export function requestIdOf(req: IncomingMessage): string {
  const r = req as WithId;
  if (typeof r.id === 'string') return r.id;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  r.id = id;
  return id;
}

export interface LoggerOptions {
  service: string;
  level: string;
  pretty: boolean;
}

/** One structured JSON logger (pino) for every service; `context` is the class that logs. */
export function loggerParams({ service, level, pretty }: LoggerOptions): Params {
  return {
    // Probes and scrapes would drown everything else.
    exclude: [
      { method: RequestMethod.ALL, path: 'health/*path' },
      { method: RequestMethod.ALL, path: 'metrics' },
    ],
    pinoHttp: {
      level,
      base: { service },
      // Fastify assigns the id first (requestIdOf); the log lines reuse it.
      genReqId: (req: IncomingMessage) => requestIdOf(req),
      customAttributeKeys: { reqId: 'requestId' },
      // trace_id and span_id of the span in progress on every line (docs/tracing.md).
      mixin: traceLogFields,
      // A refused request is worth a look (warn), a failed one is an incident (error); the rest is info.
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.query.access_token'], censor: '[redacted]' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
      },
      transport: pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    },
  };
}
