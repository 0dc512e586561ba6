import { webhooksForOpenApi } from '@app/contracts';
import type { ApiDescription } from '@app/http';

/** sync-notifier's OpenAPI document: the change feed over HTTP, webhook management, and the webhooks themselves. */
export const syncNotifierDescription: ApiDescription = {
  title: 'Upload platform API: changes and webhooks',
  description: [
    "Every change to an owner's files (created, uploaded, ready, failed, deleted, ...) in one ordered feed per owner.",
    '',
    '- `GET /v1/changes` reads it (with `waitSeconds` as a long-poll);',
    '- the WebSocket `/v1/sync` pushes it live; its messages are described in the AsyncAPI document at `/docs/asyncapi.json`;',
    "- webhooks deliver a tenant's changes to its backend, signed per Standard Webhooks (the `webhooks` section below).",
    '',
    'Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`: each operation lists the codes it can answer.',
  ].join('\n'),
  tags: [
    { name: 'changes', description: "An owner's ordered change feed" },
    { name: 'webhooks', description: "Endpoints that receive a tenant's changes, and their delivery logs (tenant API key)" },
  ],
  webhooks: webhooksForOpenApi,
};
