import { z } from 'zod';
import { CHANGE_TYPES } from '../change-events';
import type { ErrorCode } from '../errors';
import { changeView, cursorParam, syncClientMessage, syncQuery } from './changes';
import { ownerId } from './common';

// The wire contract of sync-notifier's push channels (api-v1.md, Changes): the WebSocket
// /v1/sync, both ways, and the webhook deliveries POSTed to tenants' endpoints. The AsyncAPI
// document and the OpenAPI `webhooks` are generated from these (../docs).

// ---- WebSocket /v1/sync ----

export const SYNC_PATH = '/v1/sync';

/** The upgrade request's query. */
export const syncHandshakeQuery = syncQuery.extend({
  cursor: syncQuery.shape.cursor.describe(
    'The last cursor the device processed: the backlog after it is sent first. Absent: the whole retained history. Older than the retention: refused with 410 cursor_expired.',
  ),
  access_token: syncQuery.shape.access_token.describe('A user token, for clients that cannot set headers on a WebSocket handshake (browsers)'),
});

/** The upgrade request's headers the gateway reads (names are case-insensitive). */
export const syncHandshakeHeaders = z.object({
  Authorization: z
    .string()
    .regex(/^Bearer \S+$/, 'must be "Bearer <token>"')
    .optional()
    .describe('"Bearer <user token>", or "Bearer <tenant API key>" with X-Owner-Id; or send the user token as access_token'),
  'X-Owner-Id': ownerId.optional().describe('With a tenant API key: the owner whose feed to follow'),
});

/** Server to device: one change of the owner's feed, in cursor order, each exactly once. */
export const syncChangeFrame = z
  .object({
    type: z.literal('change'),
    change: changeView,
  })
  .describe('One change of the feed; once processed, `change.cursor` is where the device resumes from');

/** Every text frame the server sends (clients ignore `type`s they do not know). */
export const syncServerMessage = z.discriminatedUnion('type', [syncChangeFrame]);
export type SyncServerMessage = z.output<typeof syncServerMessage>;

/**
 * Device to server: "I have processed up to `cursor`". Counts as an answer to the heartbeat when
 * `cursor` was sent on this connection; progress needs no server state (a device resumes from the
 * cursor it reconnects with). Other frames are ignored.
 */
export const syncAckFrame = syncClientMessage.options[0].describe('The device has processed the changes up to `cursor`');
export type SyncClientMessage = z.output<typeof syncClientMessage>;

/**
 * How the server ends a connection (4000-4999 are the application's, RFC 6455 section 7.4.2).
 * Every one means: reconnect (with backoff) with the last cursor processed; nothing is lost.
 * `reason` is the close frame's reason text.
 */
export const SYNC_CLOSE = {
  goingAway: {
    code: 1001,
    reason: 'server shutting down: reconnect with your cursor',
    meaning: 'The replica is shutting down; reconnect (another replica answers).',
  },
  failed: { code: 1011, reason: 'server error: reconnect with your cursor', meaning: 'Reading or sending changes failed on the server; reconnect.' },
  slowConsumer: {
    code: 4008,
    reason: 'slow consumer: reconnect with your cursor',
    meaning: 'The device read too slowly: more than SYNC_MAX_BUFFERED_BYTES waited unsent. Reconnect and read faster.',
  },
} as const;

/** Why an upgrade is refused: an HTTP answer (RFC 9457 problem+json, with `code`) instead of 101. */
export const SYNC_HANDSHAKE_REFUSALS: ReadonlyArray<{ code: ErrorCode; when: string }> = [
  { code: 'validation_failed', when: 'A malformed handshake or cursor, a cursor ahead of the feed, or an API key without a valid X-Owner-Id.' },
  { code: 'unauthorized', when: 'No valid user token (or API key) in Authorization or access_token.' },
  { code: 'forbidden', when: 'A credential that cannot act for an owner (the admin token).' },
  { code: 'not_found', when: 'An upgrade on another path than /v1/sync.' },
  { code: 'cursor_expired', when: 'The cursor is older than the retained history: list the files again, then connect without a cursor.' },
  { code: 'too_many_connections', when: 'The owner already holds SYNC_MAX_CONNECTIONS_PER_OWNER connections on this replica.' },
  { code: 'dependency_unavailable', when: 'The replica is shutting down: retry (another replica answers).' },
  { code: 'internal_error', when: 'The connection could not be set up: retry with backoff.' },
];

// ---- Webhook deliveries ----

/** `data` of a delivery: the change's own members plus where it belongs. */
export const webhookPayloadData = z
  .object({
    fileId: z.string().uuid().nullable().describe('The file the change is about (null for changes about no single file)'),
    ownerId: ownerId.describe('The owner whose feed the change is on'),
    cursor: cursorParam.describe("The change's cursor on the owner's feed (GET /v1/changes, /v1/sync)"),
  })
  .catchall(z.unknown())
  .describe('The members of the change (as in `Change.data`: filename, size, reason, variant, ... by type), plus fileId, ownerId and cursor');

/** The body of every delivery (Standard Webhooks' `{ type, timestamp, data }`). */
export const webhookPayload = z.object({
  type: z.enum(CHANGE_TYPES).describe('The change type; receivers ignore types they do not know'),
  timestamp: z.string().datetime().describe('When the change was committed (UTC, milliseconds)'),
  data: webhookPayloadData,
});
export type WebhookPayload = z.output<typeof webhookPayload>;

/** An HMAC-SHA256 in base64 (32 bytes), as Standard Webhooks' `v1` scheme writes it. */
const v1Signature = 'v1,[A-Za-z0-9+/]{43}=';

/** The headers of every delivery attempt (Standard Webhooks, standardwebhooks.com). */
export const webhookHeaders = z.object({
  'content-type': z.literal('application/json'),
  'user-agent': z.string().describe('upload-platform-webhooks/<major version>'),
  'webhook-id': z.string().uuid().describe('The delivery id: the same on every attempt of one delivery, so receivers deduplicate on it'),
  'webhook-timestamp': z
    .string()
    .regex(/^\d{1,12}$/, 'must be unix seconds')
    .describe('Unix seconds of this attempt, signed: refuse ones far from your clock (replays)'),
  'webhook-signature': z
    .string()
    .regex(new RegExp(`^${v1Signature}( ${v1Signature})*$`), 'must be space-separated v1,<base64> signatures')
    .describe(
      'Space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed by the base64-decoded part of the whsec_ secret. Two during WEBHOOK_SECRET_GRACE_HOURS after a rotation (new and previous secret): accept the delivery if any one verifies.',
    ),
});
export type WebhookHeaders = z.output<typeof webhookHeaders>;
