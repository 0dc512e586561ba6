import { Webhook } from 'standardwebhooks';
import type { WebhookHeaders } from '@app/contracts';

/**
 * The headers of one delivery attempt (Standard Webhooks; their shape is the contract's,
 * api/sync-protocol.ts): the delivery id, the attempt's time, and the body signed with every
 * secret still valid (the current one, and the previous one during its grace period).
 */
export function deliveryHeaders(deliveryId: string, at: Date, body: string, secrets: readonly string[]): WebhookHeaders {
  return {
    'content-type': 'application/json',
    'user-agent': 'upload-platform-webhooks/1',
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(deliveryId, at, body)).join(' '),
  };
}
