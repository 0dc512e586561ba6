import { CHANGE_TYPES } from '../change-events';
import { webhookHeaders, webhookPayload, webhookPayloadData } from '../api/sync-protocol';
import { exampleChanges, exampleWebhookHeaders, exampleWebhookPayload } from './examples';
import { componentSchemas, JsonObject } from './json-schema';

/** What `webhooksForOpenApi` gives the OpenAPI document. */
export interface OpenApiWebhooks {
  /** The document's `webhooks`: one Path Item per change type, keyed by the type. */
  webhooks: Record<string, JsonObject>;
  /** To merge into `components.schemas` (the webhooks' `$ref`s point there). */
  schemas: Record<string, JsonObject>;
}

const REF = '#/components/schemas/';

const DESCRIPTION = [
  "A delivery of one change of an owner's feed to an endpoint registered with `POST /v1/webhooks` for its type (or `*`). Standard Webhooks (standardwebhooks.com): verify the signature over the raw body before parsing it, e.g. `new Webhook(secret).verify(body, headers)` from the `standardwebhooks` package, which also refuses timestamps more than 5 minutes from your clock.",
  '',
  'At least once, in no guaranteed order: the same `webhook-id` comes on every attempt of one delivery (deduplicate on it), and `data.cursor` orders the changes of one owner. Answer quickly and do the work afterwards.',
].join('\n');

/**
 * The OpenAPI 3.1 `webhooks` of the deliveries sync-notifier POSTs to tenants' endpoints, with
 * the headers and body schemas from the zod contract (api/sync-protocol.ts).
 */
export function webhooksForOpenApi(): OpenApiWebhooks {
  const schemas = componentSchemas(
    { WebhookPayload: webhookPayload, WebhookPayloadData: webhookPayloadData },
    { target: 'draft-2020-12', refPrefix: REF, io: 'output' },
  );
  const headers = componentSchemas({ WebhookHeaders: webhookHeaders }, { target: 'draft-2020-12', refPrefix: REF, io: 'output' }).WebhookHeaders as {
    properties: Record<string, JsonObject>;
    required: string[];
  };
  // Content-Type is the request body's media type; OpenAPI ignores it as a header parameter.
  const parameters = Object.entries(headers.properties)
    .filter(([name]) => name !== 'content-type')
    .map(([name, { description, ...schema }]) => ({
      name,
      in: 'header',
      required: headers.required.includes(name),
      description,
      schema,
      example: exampleWebhookHeaders[name as keyof typeof exampleWebhookHeaders],
    }));

  const webhooks = Object.fromEntries(
    CHANGE_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook_${type.replace(/\W/g, '_')}`,
          summary: `${type} delivery`,
          description: DESCRIPTION,
          tags: ['webhooks'],
          // The platform authenticates itself by the signature, not by a credential of the receiver.
          security: [],
          parameters,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { allOf: [{ $ref: `${REF}WebhookPayload` }, { type: 'object', properties: { type: { const: type } } }] },
                examples: { [type]: { summary: `A ${type} delivery`, value: examplePayload(type) } },
              },
            },
          },
          responses: {
            '2XX': {
              description: 'Received. Any 2xx within WEBHOOK_TIMEOUT_MS (10 s by default) ends the delivery; the answer body is read up to 64 KiB and ignored.',
            },
            default: {
              description:
                'Anything else fails the attempt: another status (redirects are not followed), no answer within WEBHOOK_TIMEOUT_MS, a refused connection. It is retried after WEBHOOK_RETRY_BASE_MS (10 s by default), doubling each time, with the same webhook-id, until WEBHOOK_MAX_ATTEMPTS (8 by default); then the delivery is `dead` (see GET /v1/webhooks/{id}/deliveries).',
            },
          },
        },
      },
    ]),
  );
  return { webhooks, schemas };
}

/** The example body of a type: the example change of that type where there is one. */
function examplePayload(type: (typeof CHANGE_TYPES)[number]) {
  if (type === exampleWebhookPayload.type) return exampleWebhookPayload;
  const change = Object.values(exampleChanges).find((c) => c.type === type);
  const { fileId, ownerId, cursor } = exampleWebhookPayload.data;
  return { type, timestamp: change?.at ?? exampleWebhookPayload.timestamp, data: { ...change?.data, fileId, ownerId, cursor: change?.cursor ?? cursor } };
}
