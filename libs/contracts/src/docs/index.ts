// Documents generated from the zod contracts: the AsyncAPI document of /v1/sync and the OpenAPI
// `webhooks` of deliveries.
export { asyncApiDocument } from './asyncapi';
export type { AsyncApiOptions } from './asyncapi';
export { webhooksForOpenApi } from './webhooks-openapi';
export type { OpenApiWebhooks } from './webhooks-openapi';
