import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiExtension, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { z } from 'zod';
import { ErrorCode, ErrorCodes, problemDocument } from '@app/contracts';
import { PROBLEM_CONTENT_TYPE } from './problem';

/** What a service says about itself in its OpenAPI document. */
export interface ApiDescription {
  title: string;
  description: string;
  tags: Array<{ name: string; description: string }>;
  /** Parts of the contract that are not HTTP operations of this service (OpenAPI 3.1 `webhooks`). */
  webhooks?: () => { webhooks: Record<string, unknown>; schemas?: Record<string, unknown> };
}

/** The server the generated documents name: wherever the service is deployed (a served document names its own origin). */
const ANY_SERVER = {
  url: '{origin}',
  description: 'Where the service is deployed',
  variables: { origin: { default: 'http://127.0.0.1:3000', description: 'Scheme, host and port of the service' } },
};

const PROBLEM_EXTENSION = 'x-problems';
const COMPONENT_PREFIX = '#/components/schemas/';

/**
 * A reference to a zod schema that has an `id` (`.meta({ id })`), for answers a DTO class cannot
 * describe (a union of shapes). The document carries the schema, and those it references, as
 * components generated from zod.
 */
export function schemaRef(schema: z.ZodType): { $ref: string } {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('schemaRef: give the schema an id with .meta({ id })');
  return { $ref: `${COMPONENT_PREFIX}${id}` };
}

/**
 * Documents the error codes a route answers besides those every route of its kind can answer
 * (credentials, validation, not found for a path id, rate limit, an outage). The document lists,
 * per status, exactly which codes may come, so clients can switch on them and the e2e tier's
 * contract check fails on any code a route answers without declaring it.
 */
export const Problems = (...codes: ErrorCode[]) => ApiExtension(PROBLEM_EXTENSION, codes);

/**
 * The service's OpenAPI 3.1 document, from the zod schemas that also validate the requests and
 * answers: every operation with a summary, a tag, its answers and the problem codes it can return.
 */
export function openApiDocument(app: INestApplication, api: ApiDescription): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(api.title)
    .setDescription(api.description)
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer(ANY_SERVER.url, ANY_SERVER.description, ANY_SERVER.variables)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The admin token, a tenant API key or a user token, as each route says' });
  for (const tag of api.tags) builder.addTag(tag.name, tag.description);
  const raw = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controller, method) => `${lowerFirst(controller.replace(/Controller$/, ''))}${upperFirst(method)}`,
  });
  const document = cleanupOpenApiDoc(raw, { version: '3.1' });
  addProblems(document);
  addReferencedSchemas(document);
  const named = renameComponents(document);
  if (api.webhooks) {
    const { webhooks, schemas } = api.webhooks();
    Object.assign(named, { webhooks });
    named.components = { ...named.components, schemas: { ...named.components?.schemas, ...(schemas as object) } };
  }
  return named;
}

/** Serves the document at /docs/openapi.json (and .yaml, and a UI at /docs), naming the server the caller reached. */
export function setupOpenApi(app: NestFastifyApplication, api: ApiDescription): void {
  const document = openApiDocument(app, api);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
    patchDocumentOnRequest: <TRequest>(request: TRequest, _reply: unknown, doc: OpenAPIObject) => ({
      ...doc,
      servers: [{ url: originOf(request as FastifyRequest) }],
    }),
  });
}

/** The origin as the caller sees it (Fastify's trustProxy honours X-Forwarded-Proto and -Host). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Codes any operation with the named trait can answer. */
const COMMON: Array<{ when: (o: OperationFacts) => boolean; codes: ErrorCode[] }> = [
  { when: () => true, codes: ['rate_limited', 'internal_error', 'dependency_unavailable'] },
  { when: (o) => o.secured, codes: ['unauthorized', 'forbidden'] },
  { when: (o) => o.hasInput, codes: ['validation_failed'] },
  { when: (o) => o.hasBody, codes: ['payload_too_large', 'unsupported_media_type'] },
  { when: (o) => o.hasPathId, codes: ['not_found'] },
];

interface OperationFacts {
  secured: boolean;
  hasInput: boolean;
  hasBody: boolean;
  hasPathId: boolean;
}

interface Operation {
  security?: unknown[];
  parameters?: Array<{ in?: string; name?: string }>;
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
  [PROBLEM_EXTENSION]?: ErrorCode[];
}

/** Every operation's error answers: per status, the codes it can return, each a problem document. */
function addProblems(document: OpenAPIObject): void {
  // Referenced here, its component is added with the others from zod (addReferencedSchemas).
  schemaRef(problemDocument);
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      const params = operation.parameters ?? [];
      const facts: OperationFacts = {
        secured: (operation.security?.length ?? 0) > 0,
        hasInput: params.some((p) => p.in === 'query' || p.in === 'path') || operation.requestBody !== undefined,
        hasBody: operation.requestBody !== undefined,
        hasPathId: params.some((p) => p.in === 'path'),
      };
      const codes = new Set<ErrorCode>([...COMMON.filter((c) => c.when(facts)).flatMap((c) => c.codes), ...(operation[PROBLEM_EXTENSION] ?? [])]);
      delete operation[PROBLEM_EXTENSION];
      const byStatus = new Map<number, ErrorCode[]>();
      for (const code of codes) byStatus.set(ErrorCodes[code].status, [...(byStatus.get(ErrorCodes[code].status) ?? []), code]);
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        operation.responses[String(status)] = {
          description: list.map((c) => `\`${c}\`: ${ErrorCodes[c].title}`).join('; '),
          content: {
            [PROBLEM_CONTENT_TYPE]: {
              schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { code: { enum: list } } }] },
            },
          },
        };
      }
    }
  }
}

/** Adds every zod schema with an id that the document references but does not define, and what those reference. */
function addReferencedSchemas(document: OpenAPIObject): void {
  const generated = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io: 'output', uri: (id) => `${COMPONENT_PREFIX}${id}` }).schemas;
  const components = (document.components ??= {});
  const schemas = (components.schemas ??= {});
  for (;;) {
    const missing = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]).filter((id) => !schemas[id]);
    if (!missing.length) return;
    for (const id of missing) {
      const found = generated[id];
      if (!found) throw new Error(`OpenAPI: no schema named ${id}`);
      const { $schema: _schema, $id: _id, ...schema } = found as Record<string, unknown>;
      schemas[id] = schema;
    }
  }
}

/**
 * Component names as clients see them (generated types are named after them): `UploadView`, not
 * nestjs-zod's `UploadViewDto_Output`. An answer's shape keeps the plain name; the request-side
 * variant of the same schema, where one exists, is `...Input`.
 */
function renameComponents(document: OpenAPIObject): OpenAPIObject {
  const names = Object.keys(document.components?.schemas ?? {});
  const plain = (name: string) => name.replace(/_Output$/, '').replace(/Dto$/, '');
  const outputs = new Set(names.filter((n) => n.endsWith('_Output')).map(plain));
  const renames = new Map<string, string>();
  for (const name of names) {
    const base = plain(name);
    const renamed = name.endsWith('_Output') || !outputs.has(base) ? base : `${base}Input`;
    if (renamed !== name) renames.set(name, renamed);
  }
  let text = JSON.stringify(document);
  for (const [from, to] of renames) text = text.split(`"${COMPONENT_PREFIX}${from}"`).join(`"${COMPONENT_PREFIX}${to}"`);
  const renamed = JSON.parse(text) as OpenAPIObject;
  const schemas = renamed.components?.schemas ?? {};
  renamed.components!.schemas = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [renames.get(name) ?? name, schema]));
  dropUnreferenced(renamed);
  return renamed;
}

/** Components nothing refers to (variants nestjs-zod made that no operation uses) are left out. */
function dropUnreferenced(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (;;) {
    const { components, ...rest } = document;
    // References from the operations, and from components other than the one itself.
    const used = new Set<string>();
    const collect = (value: unknown) => [...JSON.stringify(value).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].forEach((m) => used.add(m[1]));
    collect(rest);
    for (const [name, schema] of Object.entries(components?.schemas ?? {})) {
      const refs = new Set([...JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]));
      refs.delete(name);
      refs.forEach((r) => used.add(r));
    }
    const unused = Object.keys(schemas).filter((name) => !used.has(name));
    if (!unused.length) return;
    for (const name of unused) delete schemas[name];
  }
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
