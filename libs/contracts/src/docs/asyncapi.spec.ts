import { Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { SYNC_CLOSE } from '../api/sync-protocol';
import { asyncApiDocument } from './asyncapi';

/** Validates values against schemas of the document, found by JSON pointer (their `$ref`s resolved within it). */
function validatorIn(document: object) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'doc', undefined, false);
  return (pointer: string, value: unknown) => {
    const validate = ajv.compile({ $ref: `doc#${pointer}` });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

type Messages = Record<string, { payload: unknown; examples: Array<{ name: string; payload: unknown }> }>;

describe('asyncApiDocument', () => {
  const document = asyncApiDocument({ serverUrl: 'wss://api.example.com' });

  it('is a valid AsyncAPI document: the parser reports no error', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    // Spectral's severities: 0 error, 1 warning, 2 info, 3 hint. Only errors fail (the one info:
    // AsyncAPI 3.1 exists).
    expect(diagnostics.filter((d) => Number(d.severity) === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(parsed?.channels().get('sync')?.address()).toBe('/v1/sync');
    expect(
      parsed
        ?.operations()
        .all()
        .map((o) => [o.id(), o.action()]),
    ).toEqual([
      ['sendChange', 'send'],
      ['receiveAck', 'receive'],
    ]);
  }, 30_000);

  it('has examples for every message, each valid against its own payload schema', () => {
    const validate = validatorIn(document);
    const messages = (document.components as { messages: Messages }).messages;
    expect(Object.keys(messages).sort()).toEqual(['ack', 'change']);
    for (const [name, message] of Object.entries(messages)) {
      expect(message.examples.length).toBeGreaterThan(0);
      for (const example of message.examples)
        expect([example.name, validate(`/components/messages/${name}/payload`, example.payload)]).toEqual([example.name, []]);
    }
  });

  it('refuses frames the contract does not allow', () => {
    const validate = validatorIn(document);
    expect(validate('/components/messages/change/payload', { type: 'change', change: { cursor: '1' } })).not.toEqual([]);
    expect(validate('/components/messages/ack/payload', { type: 'ack', cursor: 'abc' })).not.toEqual([]);
  });

  it('names the server the client reached, as ws or wss, and the handshake query schema', () => {
    const servers = (url: string) => (asyncApiDocument({ serverUrl: url }).servers as Record<string, Record<string, unknown>>).syncNotifier;
    expect(servers('https://api.example.com')).toMatchObject({ host: 'api.example.com', protocol: 'wss' });
    expect(servers('http://localhost:3001')).toMatchObject({ host: 'localhost:3001', protocol: 'ws' });
    expect(servers('ws://10.0.0.5:3001/sync-base/')).toMatchObject({ host: '10.0.0.5:3001', protocol: 'ws', pathname: '/sync-base' });
    expect(() => asyncApiDocument({ serverUrl: 'ftp://x' })).toThrow(/ws\(s\) or http\(s\)/);
    const query = (document.components as { schemas: Record<string, { properties: object }> }).schemas.HandshakeQuery;
    expect(Object.keys(query.properties)).toEqual(['cursor', 'access_token']);
  });

  it('describes every close code the gateway uses, and the settings it was given', () => {
    const channel = (document.channels as Record<string, Record<string, unknown>>).sync;
    expect(channel['x-close-codes']).toEqual(Object.values(SYNC_CLOSE));
    for (const close of Object.values(SYNC_CLOSE)) expect(channel.description).toContain(`| ${close.code} |`);
    const served = asyncApiDocument({ serverUrl: 'ws://x', settings: { heartbeatSeconds: 7, maxBufferedBytes: 2048, maxConnectionsPerOwner: 3 } });
    const description = (served.channels as Record<string, { description: string }>).sync.description;
    expect(description).toContain('7 s (SYNC_HEARTBEAT_SECONDS)');
    expect(description).toContain('2048 bytes (SYNC_MAX_BUFFERED_BYTES)');
    expect(description).toContain('3 (SYNC_MAX_CONNECTIONS_PER_OWNER)');
  });
});
