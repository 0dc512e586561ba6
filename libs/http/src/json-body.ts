import type { FastifyInstance } from 'fastify';

/** How deep a request body may nest: deeper than any body of this API, shallow enough to walk. */
export const MAX_JSON_DEPTH = 32;

/** A 400 the error handler turns into a problem document (`validation_failed`). */
const invalidBody = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

/**
 * What no part of the platform can store: a string (or key) with a lone UTF-16 surrogate
 * (`"\ud800"` is valid JSON, but not Unicode: Postgres refuses it in text and jsonb), or nesting
 * past MAX_JSON_DEPTH. Null when the body is fine.
 */
export function unstorableJson(value: unknown, depth = 0): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : 'The body holds a string that is not valid Unicode (a lone surrogate).';
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_JSON_DEPTH) return `The body nests deeper than ${MAX_JSON_DEPTH} levels.`;
  for (const [key, item] of Object.entries(value)) {
    const problem = (key.isWellFormed() ? null : unstorableJson(key)) ?? unstorableJson(item, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/**
 * The one JSON body parser of every service: Fastify's own (prototype-poisoning checks), then
 * `unstorableJson`, so what cannot be stored is a 400 at the door instead of a database error
 * later. An empty body is no body (a DELETE sent with `Content-Type: application/json` and
 * nothing else, as browsers and upload libraries do): routes that need one say so themselves.
 */
export function useJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string; // parseAs: 'string'
    if (text.trim() === '') return done(null, undefined);
    void parse(request, text, (error, value) => {
      if (error) return done(error, undefined);
      const problem = unstorableJson(value);
      return problem ? done(invalidBody(problem), undefined) : done(null, value);
    });
  });
}
