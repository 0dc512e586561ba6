import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { CHANGE_TYPES } from '../change-events';
import { EXAMPLE_WEBHOOK_SECRET, exampleWebhookHeaders, exampleWebhookPayload } from './examples';
import { webhooksForOpenApi } from './webhooks-openapi';

interface Operation {
  operationId: string;
  security: unknown[];
  parameters: Array<{ name: string; in: string; required: boolean; example: unknown }>;
  requestBody: { content: Record<string, { examples: Record<string, { value: unknown }> }> };
  responses: Record<string, unknown>;
}

/** The webhooks inside a minimal OpenAPI 3.1 document, as the service's document carries them. */
function openApi() {
  const { webhooks, schemas } = webhooksForOpenApi();
  return {
    document: { openapi: '3.1.0', info: { title: 'webhooks', version: '1' }, webhooks, components: { schemas } },
    webhooks: webhooks as Record<string, { post: Operation }>,
  };
}

/** Validates values against schemas of the document, found by JSON pointer (their `$ref`s resolved within it). */
function validatorIn(document: object) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'doc', undefined, false);
  return (pointer: string, value: unknown) => {
    const validate = ajv.compile({ $ref: `doc#${pointer}` });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

describe('webhooksForOpenApi', () => {
  it('has one webhook per change type, each a signed POST the receiver answers with a 2xx', () => {
    const { webhooks } = openApi();
    expect(Object.keys(webhooks)).toEqual([...CHANGE_TYPES]);
    const ids = Object.values(webhooks).map((w) => w.post.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { post } of Object.values(webhooks)) {
      expect(post.parameters.filter((p) => p.required).map((p) => [p.in, p.name])).toEqual([
        ['header', 'user-agent'],
        ['header', 'webhook-id'],
        ['header', 'webhook-timestamp'],
        ['header', 'webhook-signature'],
      ]);
      expect(post.security).toEqual([]);
      expect(Object.keys(post.responses)).toEqual(['2XX', 'default']);
    }
  });

  it('has examples valid against their own schemas: every body and every header', () => {
    const { document, webhooks } = openApi();
    const validate = validatorIn(document);
    for (const [type, { post }] of Object.entries(webhooks)) {
      const base = `/webhooks/${type}/post`;
      const examples = Object.values(post.requestBody.content['application/json'].examples);
      expect(examples).toHaveLength(1);
      for (const { value } of examples) expect([type, validate(`${base}/requestBody/content/application~1json/schema`, value)]).toEqual([type, []]);
      post.parameters.forEach((p, i) => expect([p.name, validate(`${base}/parameters/${i}/schema`, p.example)]).toEqual([p.name, []]));
    }
  });

  it('holds each webhook to its own type and to the payload contract', () => {
    const { document } = openApi();
    const validate = validatorIn(document);
    const body = '/webhooks/file.deleted/post/requestBody/content/application~1json/schema';
    expect(validate(body, exampleWebhookPayload)).not.toEqual([]); // a file.ready body
    expect(validate(body, { ...exampleWebhookPayload, type: 'file.deleted' })).toEqual([]);
    expect(validate(body, { ...exampleWebhookPayload, type: 'file.deleted', data: { fileId: null } })).not.toEqual([]); // no ownerId, cursor
  });

  it('signs the example body with the example secret as a receiver verifies it', () => {
    const headers = { ...exampleWebhookHeaders };
    const signed = new Webhook(EXAMPLE_WEBHOOK_SECRET).sign(
      headers['webhook-id'],
      new Date(Number(headers['webhook-timestamp']) * 1000),
      JSON.stringify(exampleWebhookPayload),
    );
    expect(headers['webhook-signature']).toBe(signed);
  });
});
