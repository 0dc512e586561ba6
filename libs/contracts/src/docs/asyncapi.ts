import { ErrorCodes } from '../errors';
import { SYNC_CLOSE, SYNC_HANDSHAKE_REFUSALS, SYNC_PATH, syncAckFrame, syncChangeFrame, syncHandshakeHeaders, syncHandshakeQuery } from '../api/sync-protocol';
import { changeView } from '../api/changes';
import { exampleAckFrame, exampleChangeFrame, exampleChanges } from './examples';
import { componentSchemas, JsonObject } from './json-schema';

export interface AsyncApiOptions {
  /** Where devices connect: `ws(s)://host[:port][/base]` (`http(s)://` is read as `ws(s)://`). */
  serverUrl: string;
  /** The replica's settings, when known (the served document); otherwise named by variable. */
  settings?: { heartbeatSeconds?: number; maxBufferedBytes?: number; maxConnectionsPerOwner?: number };
}

/** The AsyncAPI 3.0 document of `/v1/sync`: the server's view (it sends changes, receives acks). */
export function asyncApiDocument(options: AsyncApiOptions): JsonObject {
  const url = new URL(options.serverUrl);
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) throw new Error(`serverUrl must be a ws(s) or http(s) URL, not ${options.serverUrl}`);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const pathname = url.pathname.replace(/\/+$/, '');
  // AsyncAPI's default schema format is a superset of JSON Schema draft-07.
  const refPrefix = '#/components/schemas/';
  const schemas = {
    ...componentSchemas({ Change: changeView, ChangeFrame: syncChangeFrame }, { target: 'draft-07', refPrefix, io: 'output' }),
    ...componentSchemas(
      { AckFrame: syncAckFrame, HandshakeQuery: syncHandshakeQuery, HandshakeHeaders: syncHandshakeHeaders },
      { target: 'draft-07', refPrefix, io: 'input' },
    ),
  };
  const s = options.settings ?? {};
  const heartbeat = s.heartbeatSeconds ? `${s.heartbeatSeconds} s (SYNC_HEARTBEAT_SECONDS)` : 'SYNC_HEARTBEAT_SECONDS (30 s by default)';
  const buffered = s.maxBufferedBytes ? `${s.maxBufferedBytes} bytes (SYNC_MAX_BUFFERED_BYTES)` : 'SYNC_MAX_BUFFERED_BYTES (1 MiB by default)';
  const perOwner = s.maxConnectionsPerOwner ? `${s.maxConnectionsPerOwner} (SYNC_MAX_CONNECTIONS_PER_OWNER)` : 'SYNC_MAX_CONNECTIONS_PER_OWNER (20 by default)';

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Upload platform: device sync (WebSocket /v1/sync)',
      version: '1',
      description: [
        "An owner's change feed pushed to a device: first the backlog after the device's cursor, then live changes, in cursor order and each exactly once.",
        'The same feed is paged by `GET /v1/changes` (long-poll with `waitSeconds`) and delivered to tenants by webhooks; both are in the OpenAPI document (`/docs/openapi.json`).',
        '',
        '**Reconnecting.** A device keeps the cursor of the last change it processed and reconnects with it, after any close or network error, with backoff and jitter. Nothing is lost between connections: the server holds no per-device state.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      syncNotifier: {
        host: url.host,
        protocol: secure ? 'wss' : 'ws',
        ...(pathname ? { pathname } : {}),
        description: 'sync-notifier (behind the ingress: the public API host)',
        security: [
          { $ref: '#/components/securitySchemes/userToken' },
          { $ref: '#/components/securitySchemes/userTokenQuery' },
          { $ref: '#/components/securitySchemes/tenantKeyForOwner' },
        ],
      },
    },
    channels: {
      sync: {
        address: SYNC_PATH,
        title: "The owner's change feed",
        description: [
          "One connection follows one owner's feed. The upgrade (`GET /v1/sync?cursor=`) is authenticated before it is accepted; a refused upgrade is answered with an HTTP status and an RFC 9457 problem document (`application/problem+json`, with a stable `code`) instead of `101`:",
          '',
          '| status | code | when |',
          '|---|---|---|',
          ...SYNC_HANDSHAKE_REFUSALS.map((r) => `| ${ErrorCodes[r.code].status} | \`${r.code}\` | ${r.when} |`),
          '',
          'All messages are JSON text frames. The server sends `change` frames only; the device may send `ack` frames; anything else a device sends (binary frames, unknown types) is ignored. Devices ignore frame types and change types they do not know, and members they do not know.',
          '',
          `**Heartbeat.** The server sends a WebSocket ping every ${heartbeat}; a device that answered neither that ping (pong, which WebSocket libraries send by themselves) nor with an \`ack\` of a cursor it was sent before the next one is dropped. A frame from the device is at most 4 KiB; a larger one closes the connection (1009, by the WebSocket library).`,
          '',
          `**Flow control.** A device that reads too slowly, so that more than ${buffered} wait unsent, is closed with 4008. One owner may hold ${perOwner} connections (WebSockets and long-polls together) on one replica.`,
          '',
          '**Close codes** (every one: reconnect with the last cursor processed):',
          '',
          '| code | reason text | meaning |',
          '|---|---|---|',
          ...Object.values(SYNC_CLOSE).map((c) => `| ${c.code} | ${c.reason} | ${c.meaning} |`),
        ].join('\n'),
        messages: {
          change: { $ref: '#/components/messages/change' },
          ack: { $ref: '#/components/messages/ack' },
        },
        bindings: {
          ws: {
            method: 'GET',
            query: { $ref: '#/components/schemas/HandshakeQuery' },
            headers: { $ref: '#/components/schemas/HandshakeHeaders' },
            bindingVersion: '0.1.0',
          },
        },
        'x-close-codes': Object.values(SYNC_CLOSE),
        'x-handshake-refusals': SYNC_HANDSHAKE_REFUSALS.map((r) => ({ status: ErrorCodes[r.code].status, ...r })),
      },
    },
    operations: {
      sendChange: {
        action: 'send',
        channel: { $ref: '#/channels/sync' },
        title: 'Push changes',
        summary: 'The backlog after the cursor (in pages), then each live change, in cursor order, each once.',
        messages: [{ $ref: '#/channels/sync/messages/change' }],
      },
      receiveAck: {
        action: 'receive',
        channel: { $ref: '#/channels/sync' },
        title: 'Acknowledge',
        summary: 'The device has processed up to a cursor; counts as an answer to the heartbeat.',
        messages: [{ $ref: '#/channels/sync/messages/ack' }],
      },
    },
    components: {
      schemas,
      messages: {
        change: {
          name: 'change',
          title: 'Change',
          summary: "One change of the owner's feed. `change.cursor` is where to resume from once it is processed.",
          contentType: 'application/json',
          payload: { $ref: '#/components/schemas/ChangeFrame' },
          examples: [
            { name: 'fileReady', summary: 'A file finished processing', payload: exampleChangeFrame },
            {
              name: 'uploadCreated',
              summary: 'An upload was started (on any device of the owner)',
              payload: { type: 'change', change: exampleChanges.uploadCreated },
            },
          ],
        },
        ack: {
          name: 'ack',
          title: 'Acknowledgement',
          summary: 'Optional: the device has processed the changes up to `cursor`.',
          contentType: 'application/json',
          payload: { $ref: '#/components/schemas/AckFrame' },
          examples: [{ name: 'ack', summary: 'Processed up to cursor 42', payload: exampleAckFrame }],
        },
      },
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', description: 'A user token in `Authorization: Bearer <token>`: the feed of its owner.' },
        userTokenQuery: {
          type: 'httpApiKey',
          in: 'query',
          name: 'access_token',
          description: 'A user token in the `access_token` query parameter, for clients that cannot set handshake headers (browsers).',
        },
        tenantKeyForOwner: {
          type: 'http',
          scheme: 'bearer',
          description: "A tenant API key in `Authorization: Bearer <key>` with the owner's id in `X-Owner-Id`: the feed of that owner.",
        },
      },
    },
  };
}
