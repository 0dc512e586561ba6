import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { ChangeFeed } from '@app/sdk';
import { ServiceProcess, freePort } from '@app/testing';
import { createTenant, E2eStack, sleep, startStack, until } from './stack';
import { Change, Device, expectGapFree } from './sync-client';
import { RawClient } from './upload-client';

/**
 * Issue #5: the ordered change feed, real-time push to every device of an owner (across
 * replicas), catching up from a cursor, and webhooks, against the whole stack.
 */
describe('sync-notifier: feed, devices, replicas, webhooks', () => {
  let stack: E2eStack;
  let apiKey: string;
  let api: RawClient;
  let syncUrl: string;

  beforeAll(async () => {
    stack = await startStack({
      env: {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'loopback',
        WEBHOOK_RETRY_BASE_MS: '300',
        WEBHOOK_MAX_ATTEMPTS: '4',
        SYNC_MAX_CONNECTIONS_PER_OWNER: '20',
        SYNC_HEARTBEAT_SECONDS: '2',
      },
    });
    apiKey = (await createTenant(stack, { name: 'sync' })).apiKey;
    api = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${apiKey}` });
    syncUrl = stack.service('sync-notifier').url;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const as = (ownerId: string) => new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${apiKey}`, 'x-owner-id': ownerId });
  const tokenFor = async (ownerId: string) => (await api.call('POST', '/v1/tokens', { ownerId })).body.token as string;
  /** One `upload.created` change for the owner (an initiation writes it). */
  const initiate = async (owner: RawClient, i: number) => {
    const res = await owner.call('POST', '/v1/uploads', { filename: `f${i}.bin`, size: 1024, contentType: 'application/octet-stream' });
    if (res.status !== 201) throw new Error(`initiation answered ${res.status}`);
    return res.body.id as string;
  };
  const feed = (ownerId: string, query: string) =>
    new RawClient(syncUrl, { authorization: `Bearer ${apiKey}`, 'x-owner-id': ownerId }).call('GET', `/v1/changes${query}`);

  it('20 concurrent writers for one owner: a long-polling follower and a device see every change once, in order', async () => {
    const owner = as('writer-owner');
    const device = await Device.connect(syncUrl, await tokenFor('writer-owner'));
    const seen: Change[] = [];
    let stop = false;
    const follower = (async () => {
      let cursor: string | undefined;
      while (!stop || seen.length < 200) {
        const { status, body } = await feed('writer-owner', `?waitSeconds=2&limit=37${cursor ? `&cursor=${cursor}` : ''}`);
        if (status !== 200) throw new Error(`feed answered ${status}`);
        seen.push(...(body.changes as Change[]));
        cursor = body.cursor as string;
      }
    })();
    const ids = (
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          const mine: string[] = [];
          for (let i = 0; i < 10; i++) mine.push(await initiate(owner, w * 10 + i));
          return mine;
        }),
      )
    ).flat();
    stop = true;
    await follower;
    expectGapFree(seen);
    expect(seen.map((c) => c.fileId).sort()).toEqual([...ids].sort());
    expectGapFree(await device.waitForCount(200));
    expect(device.changes).toEqual(seen);
    await device.close();
  });

  it("counts its requests against the credential's rate limit, shared with upload-api", async () => {
    const res = await fetch(`${syncUrl}/v1/changes`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'counted' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe('60000'); // an API key's budget (API_KEY_RATE_LIMIT_PER_MINUTE)
    const remaining = Number(res.headers.get('ratelimit-remaining'));
    const next = await fetch(`${stack.service('upload-api').url}/v1/files`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'counted' } });
    expect(Number(next.headers.get('ratelimit-remaining'))).toBeLessThan(remaining);
  });

  it('documents its routes in OpenAPI', async () => {
    const doc = (await (await fetch(`${syncUrl}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/changes', '/v1/webhooks', '/v1/webhooks/{id}/deliveries', '/v1/webhooks/{id}/rotate-secret']),
    );
  });

  it('a long-poll answers as soon as a change lands', async () => {
    const owner = as('poller');
    await initiate(owner, 0);
    const { body } = await feed('poller', '');
    const started = Date.now();
    const waiting = feed('poller', `?cursor=${body.cursor}&waitSeconds=20`);
    await sleep(300);
    const id = await initiate(owner, 1);
    const answer = await waiting;
    expect(answer.body.changes.map((c: Change) => c.fileId)).toEqual([id]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('both devices of an owner receive file.ready for an upload; another owner receives nothing', async () => {
    const [d1, d2] = await Promise.all([tokenFor('bob'), tokenFor('bob')].map(async (t) => Device.connect(syncUrl, await t)));
    const other = await Device.connect(syncUrl, await tokenFor('carol'));
    const id = await as('bob').upload(Buffer.from('hello from bob\n'), 'note.txt', 'text/plain');
    for (const device of [d1, d2]) {
      const ready = await device.waitFor((c) => c.fileId === id && c.type === 'file.ready');
      expect(ready.data).toMatchObject({ status: 'ready' });
      expect(device.changes.filter((c) => c.fileId === id).map((c) => c.type)).toEqual(['upload.created', 'file.uploaded', 'file.processing', 'file.ready']);
    }
    await sleep(500);
    expect(other.changes).toEqual([]);
    await Promise.all([d1, d2, other].map((d) => d.close()));
  });

  it('a device offline during 100 changes gets exactly those 100, in order, when it returns with its cursor', async () => {
    const token = await tokenFor('traveller');
    const owner = as('traveller');
    await initiate(owner, 0);
    const device = await Device.connect(syncUrl, token);
    await device.waitForCount(1);
    const cursor = device.cursor!;
    await device.close();
    const ids: string[] = [];
    for (let i = 1; i <= 100; i++) ids.push(await initiate(owner, i));
    const back = await Device.connect(syncUrl, token, cursor);
    const missed = await back.waitForCount(100);
    await sleep(300);
    expect(back.changes).toHaveLength(100);
    expectGapFree(missed, Number(cursor));
    expect(missed.map((c) => c.fileId)).toEqual(ids);
    await back.close();
  });

  it('two replicas: a change reaches devices on either; when one dies its devices resume on the other and miss nothing', async () => {
    const second = new ServiceProcess('sync-notifier', await freePort(), stack.env).start();
    await second.ready();
    const token = await tokenFor('roamer');
    const owner = as('roamer');
    const onFirst = await Device.connect(syncUrl, token);
    const onSecond = await Device.connect(second.url, token);
    const first = await initiate(owner, 0);
    for (const d of [onFirst, onSecond]) await d.waitFor((c) => c.fileId === first);

    // The first replica dies while changes keep coming; its device reconnects to the second.
    const writing = (async () => {
      const ids: string[] = [];
      for (let i = 1; i <= 30; i++) ids.push(await initiate(owner, i));
      return ids;
    })();
    await sleep(100);
    await stack.service('sync-notifier').stop('SIGKILL');
    await until('the first device notices', async () => onFirst.closed ?? null, 10_000, 20);
    const resumed = await Device.connect(second.url, token, onFirst.cursor);
    const ids = await writing;
    const all = [first, ...ids];
    const received = [...onFirst.changes, ...(await resumed.waitForCount(all.length - onFirst.changes.length))];
    expectGapFree(received, Number(onFirst.changes[0].cursor) - 1);
    expect(received.map((c) => c.fileId)).toEqual(all);
    expect((await onSecond.waitForCount(all.length)).map((c) => c.fileId)).toEqual(all);
    await Promise.all([resumed.close(), onSecond.close()]);
    await second.stop();
    await stack.restart('sync-notifier');
    syncUrl = stack.service('sync-notifier').url;
  });

  it('the SDK ChangeFeed follows the feed across a replica restart, each change once and in order', async () => {
    const owner = as('sdk-user');
    const token = await tokenFor('sdk-user');
    const seen: Change[] = [];
    const statuses: string[] = [];
    const feed = new ChangeFeed({
      baseUrl: syncUrl,
      token,
      retry: { baseDelayMs: 100, maxDelayMs: 500 },
      onChange: (c) => void seen.push(c),
      onStatus: (s) => statuses.push(s),
    });
    feed.start();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await initiate(owner, i));
    await until('the first ten', async () => seen.length >= 10 || null, 10_000, 20);
    await stack.service('sync-notifier').stop('SIGKILL');
    for (let i = 10; i < 20; i++) ids.push(await initiate(owner, i));
    await stack.restart('sync-notifier'); // same port: the feed reconnects on its own
    await until('all twenty', async () => seen.length >= 20 || null, 20_000, 20);
    await feed.stop();
    expectGapFree(seen);
    expect(seen.map((c) => c.fileId)).toEqual(ids);
    expect(feed.cursor).toBe(seen[19].cursor);
    expect(statuses).toEqual(expect.arrayContaining(['connected', 'reconnecting']));
  });

  it('the ChangeFeed asks the app where to restart when its cursor has expired', async () => {
    const owner = as('sdk-expired');
    for (let i = 0; i < 3; i++) await initiate(owner, i);
    await stack.sql(`DELETE FROM change_events WHERE owner_id = 'sdk-expired' AND seq <= 2`);
    const seen: Change[] = [];
    let asked = 0;
    const feed = new ChangeFeed({
      baseUrl: syncUrl,
      token: await tokenFor('sdk-expired'),
      cursor: '1',
      retry: { baseDelayMs: 50, maxDelayMs: 100 },
      onChange: (c) => void seen.push(c),
      onCursorExpired: () => void asked++, // the app reloads its list, then follows from the start
    });
    feed.start();
    await until('the retained change', async () => seen.length >= 1 || null, 10_000, 20);
    await feed.stop();
    expect(asked).toBe(1);
    expect(seen.map((c) => c.cursor)).toEqual(['3']);
  });

  it('refuses bad upgrades with a problem document: no token, a bad cursor, an expired cursor, too many devices', async () => {
    await expect(Device.connect(syncUrl, 'not-a-token')).rejects.toMatchObject({ status: 401 });
    const token = await tokenFor('limited');
    await expect(Device.connect(syncUrl, token, 'abc')).rejects.toMatchObject({ status: 400 });
    await expect(Device.connect(syncUrl, token, '999')).rejects.toMatchObject({ status: 400 });
    const owner = as('limited');
    for (let i = 0; i < 3; i++) await initiate(owner, i);
    // Retention took the first two: a cursor before them cannot be followed.
    await stack.sql(`DELETE FROM change_events WHERE owner_id = 'limited' AND seq <= 2`);
    await (await Device.connect(syncUrl, token, '0')).close(); // from the start of what is kept
    await expect(Device.connect(syncUrl, token, '1')).rejects.toMatchObject({ status: 410 });
    expect(await feed('limited', '?cursor=1')).toMatchObject({ status: 410, body: { code: 'cursor_expired' } });
    expect((await feed('limited', '?cursor=2')).body.changes).toHaveLength(1);
    expect((await feed('limited', '?waitSeconds=abc')).status).toBe(400);
    const devices = await Promise.all(Array.from({ length: 20 }, () => Device.connect(syncUrl, token, '2'))); // the limit here
    await expect(Device.connect(syncUrl, token, '2')).rejects.toMatchObject({ status: 429 });
    await Promise.all(devices.map((d) => d.close()));
  });

  it('100 malformed upgrades of one owner take none of its slots: 20 real devices connect after them', async () => {
    const token = await tokenFor('malformed');
    const { hostname, port } = new URL(syncUrl);
    const upgrade = (headers: Record<string, string>) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request({
          hostname,
          port,
          path: '/v1/sync',
          headers: { connection: 'Upgrade', upgrade: 'websocket', authorization: `Bearer ${token}`, ...headers },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
        });
        req.on('upgrade', () => reject(new Error('a malformed handshake was accepted')));
        req.on('error', reject);
        req.end();
      });
    const key = Buffer.alloc(16, 7).toString('base64');
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => upgrade(i % 2 ? { 'sec-websocket-version': '13' } : { 'sec-websocket-key': key, 'sec-websocket-version': '99' })),
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 400, type: 'application/problem+json' });
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'validation_failed' });
    }
    const devices = await Promise.all(Array.from({ length: 20 }, () => Device.connect(syncUrl, token)));
    await expect(Device.connect(syncUrl, token)).rejects.toMatchObject({ status: 429 });
    await Promise.all(devices.map((d) => d.close()));
    // Their slots are free again once they have gone.
    await until('a slot freed by a device that left', async () => {
      try {
        await (await Device.connect(syncUrl, token)).close();
        return true;
      } catch {
        return false;
      }
    });
  });

  it('long-polls take the same per-owner slots as devices, and give them back when they end', async () => {
    const owner = 'long-poller';
    const waiting = Array.from({ length: 20 }, () => new AbortController());
    const held = waiting.map((c) =>
      fetch(`${syncUrl}/v1/changes?waitSeconds=20`, { headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': owner }, signal: c.signal }).catch(
        () => null,
      ),
    );
    const token = await tokenFor(owner);
    await until('20 long-polls held', async () => (await feed(owner, '?waitSeconds=1')).status === 429);
    expect(await feed(owner, '?waitSeconds=1')).toMatchObject({ status: 429, body: { code: 'too_many_connections' } });
    await expect(Device.connect(syncUrl, token)).rejects.toMatchObject({ status: 429 });
    expect((await feed(owner, '')).status).toBe(200); // a page without waiting holds nothing
    for (const c of waiting) c.abort();
    await Promise.all(held);
    await until('the slots given back', async () => (await feed(owner, '?waitSeconds=1')).status === 200);
    await (await Device.connect(syncUrl, token)).close();
  });

  it('drops a device that stops answering pings', async () => {
    const device = await Device.connect(syncUrl, await tokenFor('sleeper'));
    // A peer that vanished without closing: it reads nothing, so it answers no ping.
    const socket = (device.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    await sleep(5_000); // two heartbeats of 2 s: the first unanswered ping, then the drop
    socket.resume(); // only now can this end see that the server hung up
    const closed = await until('dropped', async () => device.closed ?? null, 5_000, 50);
    expect(closed.code).toBe(1006); // terminated, no closing handshake
    expect(await (await fetch(`${syncUrl}/metrics`)).text()).toMatch(/sync_disconnects_total\{[^}]*reason="heartbeat"[^}]*\} 1/);
  });

  describe('webhooks', () => {
    let receiver: Server;
    let hits: Array<{ headers: IncomingMessage['headers']; body: string; status: number }>;
    const broken: string[] = [];
    let hookUrl: string;
    /** Webhook routes are sync-notifier's (the ingress sends /v1/webhooks there). */
    const hooks = () => new RawClient(syncUrl, { authorization: `Bearer ${apiKey}` });

    beforeAll(async () => {
      hits = [];
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          if (req.url === '/broken') {
            broken.push(req.headers['webhook-id'] as string);
            return void res.writeHead(503).end();
          }
          const status = hits.length < 2 ? 500 : 200; // fails twice, then accepts
          hits.push({ headers: req.headers, body, status });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    });
    afterAll(async () => {
      await new Promise((r) => receiver.close(r));
    });

    it('a receiver answering 500 twice and then 200 gets one accepted delivery, signed, with the same webhook-id each time', async () => {
      const created = await hooks().call('POST', '/v1/webhooks', { url: hookUrl, events: ['upload.created'] });
      expect(created).toMatchObject({ status: 201, body: { id: expect.any(String), secret: expect.stringMatching(/^whsec_/) } });
      const id = await initiate(as('hooked'), 0);
      await until('three attempts', async () => hits.length >= 3 || null, 20_000, 50);
      await sleep(1_000);
      expect(hits.map((h) => h.status)).toEqual([500, 500, 200]);
      expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(1);
      const accepted = hits[2];
      const verified = new Webhook(created.body.secret as string).verify(accepted.body, accepted.headers as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
      expect(verified).toMatchObject({ type: 'upload.created', data: { fileId: id, ownerId: 'hooked' } });
      const log = await hooks().call('GET', `/v1/webhooks/${created.body.id}/deliveries`);
      expect(log.body.items).toEqual([expect.objectContaining({ id: accepted.headers['webhook-id'], status: 'succeeded', attempts: 3, lastStatusCode: 200 })]);
      expect((await hooks().call('DELETE', `/v1/webhooks/${created.body.id}`)).status).toBe(204);
    });

    it('a receiver that never accepts gets WEBHOOK_MAX_ATTEMPTS attempts, then the delivery is dead', async () => {
      const created = await hooks().call('POST', '/v1/webhooks', { url: hookUrl.replace('/hook', '/broken'), events: ['upload.created'] });
      await initiate(as('unlucky'), 0);
      await until('four attempts', async () => broken.length >= 4 || null, 20_000, 50);
      await sleep(2_500); // a fifth would come after 300 * 2^3 ms
      expect(broken).toHaveLength(4);
      expect(new Set(broken).size).toBe(1);
      const log = await hooks().call('GET', `/v1/webhooks/${created.body.id}/deliveries?status=dead`);
      expect(log.body.items).toEqual([expect.objectContaining({ status: 'dead', attempts: 4, lastStatusCode: 503 })]);
      expect((await hooks().call('DELETE', `/v1/webhooks/${created.body.id}`)).status).toBe(204);
      const metrics = await (await fetch(`${syncUrl}/metrics`)).text();
      expect(metrics).toMatch(/webhook_attempts_total\{[^}]*status="dead"[^}]*\} 1/);
    });

    it('refuses private, link-local and unresolvable targets; rotation signs with both secrets for a while', async () => {
      for (const url of ['http://10.0.0.8/hook', 'http://169.254.169.254/latest', 'http://192.168.1.1/', 'http://[fd00::1]/', 'http://no-such-host.invalid/'])
        expect(await hooks().call('POST', '/v1/webhooks', { url, events: ['*'] })).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
      expect((await hooks().call('POST', '/v1/webhooks', { url: 'ftp://example.com/', events: ['*'] })).status).toBe(400);
      expect((await hooks().call('POST', '/v1/webhooks', { url: hookUrl, events: ['no.such.event'] })).status).toBe(400);
      const user = new RawClient(syncUrl, { authorization: `Bearer ${await tokenFor('someone')}` });
      expect((await user.call('POST', '/v1/webhooks', { url: hookUrl, events: ['*'] })).status).toBe(403);

      const created = await hooks().call('POST', '/v1/webhooks', { url: hookUrl, events: ['*'] });
      const rotated = await hooks().call('POST', `/v1/webhooks/${created.body.id}/rotate-secret`);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      hits.length = 2; // the receiver accepts from now on
      await initiate(as('rotated'), 0);
      const hit = await until('a delivery', async () => hits.slice(2).find((h) => h.body.includes('"rotated"')) ?? null, 20_000, 50);
      for (const secret of [created.body.secret as string, rotated.body.secret as string])
        expect(() => new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();
      expect((await hooks().call('DELETE', `/v1/webhooks/${created.body.id}`)).status).toBe(204);
    });
  });
});
