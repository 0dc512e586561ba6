import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { WebSocket } from 'ws';
import type { SyncEnv } from '@app/config';
import { asyncApiDocument, syncServerMessage, webhookHeaders, webhooksForOpenApi } from '@app/contracts';
import type { ChangeMessage } from '@app/contracts';
import { AsyncApiController } from './asyncapi.controller';
import type { FeedService } from './feed.service';
import { changeFrame, DeviceSession } from './sync.gateway';
import { deliveryHeaders } from './webhook-signature';

/** Validates values against schemas of a document, found by JSON pointer (their `$ref`s resolved within it). */
function validatorIn(document: object, ajv: Ajv) {
  addFormats(ajv);
  ajv.addSchema(document, 'doc', undefined, false);
  return (pointer: string, value: unknown) => {
    const validate = ajv.compile({ $ref: `doc#${pointer}` });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

const change = (over: Partial<ChangeMessage> = {}): ChangeMessage => ({
  cursor: '17',
  type: 'file.rejected',
  fileId: '3b1f2a4c-6d7e-4f80-9a1b-2c3d4e5f6a7b',
  at: new Date(Date.UTC(2026, 11, 7, 6, 30)).toISOString(),
  data: { reason: 'type_mismatch' },
  ...over,
});

describe('the WebSocket frames sync-notifier sends and reads, against the AsyncAPI document', () => {
  const document = asyncApiDocument({ serverUrl: 'ws://localhost:3001' });
  const validate = validatorIn(document, new Ajv({ strict: false, allErrors: true }));

  it('sends change frames that match the change message exactly', () => {
    for (const c of [change(), change({ fileId: null, type: 'upload.expired', data: {} })]) {
      const frame: unknown = JSON.parse(changeFrame(c));
      expect(validate('/components/messages/change/payload', frame)).toEqual([]);
      expect(syncServerMessage.parse(frame)).toEqual(frame); // nothing the contract does not name
    }
  });

  it('takes the documented ack example as an ack', async () => {
    const ws = { readyState: WebSocket.OPEN, bufferedAmount: 0, send: jest.fn(), close: jest.fn(), terminate: jest.fn() };
    const feed = { page: jest.fn(async () => ({ changes: [change({ cursor: '42' })], cursor: '42' })) } as unknown as FeedService;
    const session = new DeviceSession(ws as unknown as WebSocket, { tenantId: 't', ownerId: 'o' }, 41n, feed, 1 << 20, { onError: jest.fn() });
    await session.catchUp();
    const [ack] = (document.components as { messages: { ack: { examples: Array<{ payload: { cursor: string } }> } } }).messages.ack.examples;
    expect(ack.payload.cursor).toBe('42');
    session.alive = false;
    session.receive(JSON.stringify(ack.payload));
    expect(session.alive).toBe(true);
  });

  it('is served at /docs/asyncapi.json naming the host the caller reached and the replica settings', () => {
    const config = { SYNC_HEARTBEAT_SECONDS: 15, SYNC_MAX_BUFFERED_BYTES: 65_536, SYNC_MAX_CONNECTIONS_PER_OWNER: 5 } as SyncEnv;
    const served = new AsyncApiController(config).document({ protocol: 'https', host: 'api.example.com' } as FastifyRequest);
    expect((served.servers as Record<string, unknown>).syncNotifier).toMatchObject({ host: 'api.example.com', protocol: 'wss' });
    expect(JSON.stringify(served.channels)).toContain('15 s (SYNC_HEARTBEAT_SECONDS)');
  });
});

describe('the webhook headers sync-notifier sends, against the OpenAPI webhooks', () => {
  const { webhooks, schemas } = webhooksForOpenApi();
  const validate = validatorIn({ openapi: '3.1.0', webhooks, components: { schemas } }, new Ajv2020({ strict: false, allErrors: true }));
  const parameters = (webhooks['file.ready'] as { post: { parameters: Array<{ name: string }> } }).post.parameters;
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const previous = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
  const body = JSON.stringify({ type: 'file.ready', timestamp: new Date().toISOString(), data: { fileId: null, ownerId: 'alice', cursor: '1' } });

  it('match every documented header, and a receiver verifies them with either secret during a rotation', () => {
    const id = 'c0ffee00-1234-4abc-8def-0123456789ab';
    const headers = deliveryHeaders(id, new Date(), body, [secret, previous]);
    expect(webhookHeaders.parse(headers)).toEqual(headers);
    parameters.forEach((p, i) =>
      expect([p.name, validate(`/webhooks/file.ready/post/parameters/${i}/schema`, headers[p.name as keyof typeof headers])]).toEqual([p.name, []]),
    );
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of [secret, previous]) expect(new Webhook(s).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(body, headers)).toThrow();
  });
});
