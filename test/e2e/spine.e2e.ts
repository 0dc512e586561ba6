import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { ALL_SERVICES, createTenant, E2eStack, presignedPut, startStack, until } from './stack';

const CHECKS: Record<string, string[]> = {
  'upload-api': ['lifecycle', 'database', 'redis', 's3'],
  'sync-notifier': ['lifecycle', 'database', 'redis'],
  'chunk-tracker': ['lifecycle', 'database', 'redis', 's3', 'sqs'],
  'media-processor': ['lifecycle', 'database', 'redis', 's3'],
};

describe('the four services as real processes', () => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it.each(ALL_SERVICES)('%s is live, ready with its dependency checks listed, and serves Prometheus metrics', async (name) => {
    const service = stack.service(name);
    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await service.readiness();
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.details)).toEqual(CHECKS[name]);
    for (const check of CHECKS[name]) expect(ready.body.details[check].status).toBe('up');
    const metrics = await fetch(`${service.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^# HELP /m);
    expect(text).toContain(`process_resident_memory_bytes{service="${name}"}`);
  });

  it('the spine: a presigned PUT under the prefix becomes an S3 event on SQS that chunk-tracker records in Postgres', async () => {
    const tenantId = randomUUID();
    const fileId = randomUUID();
    const key = `uploads/${tenantId}/${fileId}`;
    await presignedPut(stack.storage, key, Buffer.from('spine bytes'));
    const [row] = await until('the event row', async () => {
      const rows = await stack.sql<{ event_key: string; event_name: string; file_id: string }>(
        'SELECT event_key, event_name, file_id FROM processed_storage_events WHERE file_id = $1',
        [fileId],
      );
      return rows.length ? rows : null;
    });
    expect(row).toMatchObject({ event_name: 'ObjectCreated:Put', file_id: fileId });
    expect(row.event_key).toContain(key);
    const metrics = await (await fetch(`${stack.service('chunk-tracker').url}/metrics`)).text();
    expect(metrics).toMatch(/storage_events_total\{event="ObjectCreated:Put",outcome="recorded",service="chunk-tracker"\} 1/);
  });

  it('objects under a key the platform did not issue are not recorded', async () => {
    await presignedPut(stack.storage, 'uploads/hand-written.txt', Buffer.from('x'));
    const marker = randomUUID();
    await presignedPut(stack.storage, `uploads/${randomUUID()}/${marker}`, Buffer.from('y'));
    await until('the marker event', async () => (await stack.sql('SELECT 1 FROM processed_storage_events WHERE file_id = $1', [marker])).length > 0);
    const all = await stack.sql<{ event_key: string }>('SELECT event_key FROM processed_storage_events');
    expect(all.map((r) => r.event_key).join()).not.toContain('hand-written');
  });

  it("carries the caller's request id into the answer and the log, and mints one otherwise", async () => {
    const api = stack.service('upload-api');
    const given = await fetch(`${api.url}/v1/trace-me`, { headers: { 'x-request-id': 'trace-e2e-42' } });
    expect(given.headers.get('x-request-id')).toBe('trace-e2e-42');
    await until('the log line', async () => api.output.some((l) => l.includes('"id":"trace-e2e-42"') && l.includes('/v1/trace-me')));
    const minted = await fetch(`${api.url}/v1/trace-me`);
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a refused request at warn, and every service prints nothing but JSON lines (issue #16)', async () => {
    const api = stack.service('upload-api');
    await fetch(`${api.url}/v1/trace-me`, { headers: { 'x-request-id': 'level-e2e-7' } });
    const completed = () => api.output.find((l) => l.includes('"id":"level-e2e-7"') && l.includes('request completed'));
    await until('the log line', async () => completed() ?? null);
    expect(JSON.parse(completed()!)).toMatchObject({ level: 40, res: { statusCode: 404 } });
    for (const name of ALL_SERVICES) {
      const notJson = stack.service(name).output.filter((line) => {
        try {
          return typeof JSON.parse(line) !== 'object';
        } catch {
          return true;
        }
      });
      expect({ name, notJson }).toEqual({ name, notJson: [] });
    }
  });

  it('follows one request id from the initiation through the tracker’s and the media workers’ logs (issue #16)', async () => {
    const tenant = await createTenant(stack, { name: 'follow' });
    const headers = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice', 'content-type': 'application/json' };
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const requestId = `follow-${randomUUID()}`;
    const initiated = await fetch(`${stack.service('upload-api').url}/v1/uploads`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': requestId },
      body: JSON.stringify({ filename: 'red.png', size: png.length, contentType: 'image/png' }),
    });
    expect(initiated.headers.get('x-request-id')).toBe(requestId);
    const upload = (await initiated.json()) as { id: string; upload: { url: string; headers: Record<string, string> } };
    // The PUT goes to storage and the rest follows its event: no request of the client's in between.
    expect((await fetch(upload.upload.url, { method: 'PUT', headers: upload.upload.headers, body: new Uint8Array(png) })).status).toBe(200);

    const logged = (name: (typeof ALL_SERVICES)[number], msg: string) =>
      stack
        .service(name)
        .output.map((line) => JSON.parse(line) as { msg?: string; requestId?: string; fileId?: string })
        .find((line) => line.msg === msg && line.fileId === upload.id);
    await until('the image processed', async () => logged('media-processor', 'image processed') ?? null, 30_000, 100);
    expect(logged('chunk-tracker', 'file uploaded')).toMatchObject({ requestId });
    expect(logged('media-processor', 'image processed')).toMatchObject({ requestId });
    const [row] = await stack.sql<{ request_id: string }>('SELECT request_id FROM files WHERE id = $1', [upload.id]);
    expect(row.request_id).toBe(requestId);
    // And into the events it caused, whichever service appended them: the API's upload.created,
    // the tracker's file.uploaded (a batch of storage events, under the file's id), the media
    // workers' file.ready (a job, under the id it carries).
    const changes = await until('the file ready in the feed', async () => {
      const rows = await stack.sql<{ type: string; request_id: string | null }>('SELECT type, request_id FROM change_events WHERE file_id = $1 ORDER BY seq', [
        upload.id,
      ]);
      return rows.some((r) => r.type === 'file.ready') ? rows : null;
    });
    expect(changes.map((c) => c.type)).toEqual(expect.arrayContaining(['upload.created', 'file.uploaded', 'file.ready']));
    expect(changes.length).toBeGreaterThanOrEqual(3);
    expect(changes.filter((c) => c.request_id !== requestId)).toEqual([]);

    // The work shows in the workers' metrics: jobs run, how long they took, each queue's backlog.
    const metrics = await (await fetch(`${stack.service('media-processor').url}/metrics`)).text();
    expect(metrics).toMatch(/queue_jobs_processed_total\{queue="media-image",job="media.image",outcome="completed"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/queue_job_duration_seconds_count\{[^}]*queue="media-verify",job="media.verify"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/queue_jobs\{queue="media-scan",state="waiting"[^}]*\} \d+/);
  });

  it('answers unknown routes with problem+json', async () => {
    const res = await fetch(`${stack.service('upload-api').url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('serves the OpenAPI document and UI', async () => {
    const api = stack.service('upload-api');
    const doc = await (await fetch(`${api.url}/docs/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect((await fetch(`${api.url}/docs`)).status).toBe(200);
  });
});
