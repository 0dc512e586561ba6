import Fastify, { FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH, unstorableJson, useJsonBodyParser } from './json-body';

/** A bare Fastify with the platform's JSON parser and routes that echo what they were given (in-process inject: no socket). */
async function appWithParser(): Promise<FastifyInstance> {
  const app = Fastify();
  useJsonBodyParser(app);
  app.delete('/thing', async (request, reply) => reply.status(200).send({ body: request.body === undefined ? 'none' : request.body }));
  app.post('/thing', async (request) => ({ body: request.body === undefined ? 'none' : request.body }));
  await app.ready();
  return app;
}

describe('useJsonBodyParser', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWithParser();
  });
  afterAll(async () => {
    await app.close();
  });

  // Uppy's abort (and browsers' fetch wrappers) send DELETE with Content-Type: application/json and no body (#14).
  it.each([
    ['no body at all', undefined],
    ['an empty body', ''],
    ['a body of whitespace', ' \r\n'],
  ])('takes a DELETE with Content-Type: application/json and %s as no body', async (_, payload) => {
    const res = await app.inject({ method: 'DELETE', url: '/thing', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ body: 'none' });
  });

  it('parses a JSON body as before', async () => {
    const res = await app.inject({ method: 'POST', url: '/thing', headers: { 'content-type': 'application/json; charset=utf-8' }, payload: '{"a":[1,2]}' });
    expect(res.json()).toEqual({ body: { a: [1, 2] } });
  });

  it.each([
    ['malformed JSON', '{"a":'],
    ['prototype poisoning', '{"__proto__":{"x":1}}'],
    ['a lone surrogate', '{"name":"\\ud800"}'],
    ['nesting past the limit', '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)],
  ])('answers 400 for %s', async (_, payload) => {
    const res = await app.inject({ method: 'POST', url: '/thing', headers: { 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
  });
});

describe('unstorableJson', () => {
  it('finds a lone surrogate in keys and values, and accepts well-formed Unicode', () => {
    expect(unstorableJson({ ok: 'héllo 🎉' })).toBeNull();
    expect(unstorableJson({ bad: '\ud800' })).toMatch(/lone surrogate/);
    expect(unstorableJson({ '\udc00': 1 })).toMatch(/lone surrogate/);
  });
});
