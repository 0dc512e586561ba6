import { z } from 'zod';
import { CHANGE_TYPES } from '../change-events';

/** A cursor as clients hold it: opaque to them (here the decimal of the owner's sequence). */
export const cursorParam = z.string().regex(/^\d{1,18}$/, 'must be a cursor this feed returned');

export const listChangesQuery = z
  .object({
    cursor: cursorParam.optional().describe('Where to continue; absent: from the start of the retained history'),
    limit: z.coerce.number().int().min(1).max(1000).optional().describe('Default 100'),
    waitSeconds: z.coerce
      .number()
      .int()
      .min(0)
      .max(300)
      .optional()
      .describe('Long-poll: hold the request until a change arrives or this passes (held at most SYNC_MAX_WAIT_SECONDS, 30 by default)'),
  })
  .strict();

export const changeView = z.object({
  cursor: z.string(),
  type: z.string().describe(`One of ${CHANGE_TYPES.join(', ')}; clients ignore types they do not know`),
  fileId: z.string().uuid().nullable(),
  at: z.string().datetime(),
  data: z.record(z.string(), z.unknown()),
});

export const changePage = z.object({
  changes: z.array(changeView),
  cursor: z.string().describe('Where to continue next time'),
});

export const syncQuery = z.object({ cursor: cursorParam.optional(), access_token: z.string().optional() }).passthrough();

/** What a device may send on /v1/sync. */
export const syncClientMessage = z.discriminatedUnion('type', [z.object({ type: z.literal('ack'), cursor: cursorParam })]);

export const WEBHOOK_EVENTS = ['*', ...CHANGE_TYPES] as const;

export const createWebhookBody = z
  .object({
    url: z
      .string()
      .url()
      .max(2048)
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1)
      .max(CHANGE_TYPES.length + 1)
      .describe('Change types to deliver, or "*" for all'),
  })
  .strict();

export const webhookCreated = z.object({
  id: z.string().uuid(),
  url: z.string(),
  events: z.array(z.string()),
  secret: z.string().describe('whsec_...: shown once'),
});
export const webhookView = z.object({
  id: z.string().uuid(),
  url: z.string(),
  events: z.array(z.string()),
  createdAt: z.string().datetime(),
  rotatedAt: z.string().datetime().nullable(),
});
export const webhookList = z.object({ items: z.array(webhookView) });

export const deliveryView = z.object({
  id: z.string().uuid().describe('Also the webhook-id header of every attempt'),
  eventType: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed', 'dead']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string().datetime(),
  lastAttemptAt: z.string().datetime().nullable(),
  deliveredAt: z.string().datetime().nullable(),
  payload: z.record(z.string(), z.unknown()),
});
export const deliveryList = z.object({ items: z.array(deliveryView), nextCursor: z.string().nullable() });
export const listDeliveriesQuery = z
  .object({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
    status: z.enum(['pending', 'succeeded', 'failed', 'dead']).optional(),
  })
  .strict();
