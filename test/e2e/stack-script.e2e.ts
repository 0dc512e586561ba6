import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import sharp from 'sharp';
import { freePort, testConfig } from '@app/testing';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);
const SERVICES = ['upload-api', 'sync-notifier', 'chunk-tracker', 'media-processor'] as const;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Headers acting for owner alice of a new tenant, made with the admin token `up` printed. */
async function aliceOfNewTenant(api: string, upOutput: string, name: string): Promise<Record<string, string>> {
  const adminToken = /Authorization: Bearer (\S+)/.exec(upOutput)?.[1];
  const res = await fetch(`${api}/v1/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const tenant = (await res.json()) as { apiKey: string };
  return { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice', 'content-type': 'application/json' };
}

/**
 * `npm run up` / `down` exactly as a newcomer runs them (scripts/stack.sh), on ports, a database,
 * a state folder and an emulator of the test's own, so a developer's running stack is untouched.
 */
describe('the local stack script', () => {
  const stackDir = mkdtempSync(path.join(tmpdir(), 'upl-stack-'));
  const database = `upl_stack_${randomBytes(4).toString('hex')}`;
  let env: NodeJS.ProcessEnv;
  let ports: Record<(typeof SERVICES)[number], number>;

  beforeAll(async () => {
    const moto = await freePort();
    ports = { 'upload-api': await freePort(), 'sync-notifier': await freePort(), 'chunk-tracker': await freePort(), 'media-processor': await freePort() };
    const pg = new URL(testConfig().TEST_POSTGRES_URL);
    pg.pathname = `/${database}`;
    env = {
      ...process.env,
      STACK_DIR: stackDir,
      DATABASE_URL: pg.toString(),
      REDIS_URL: testConfig().TEST_REDIS_URL,
      QUEUE_PREFIX: `stack-${randomBytes(4).toString('hex')}`,
      S3_ENDPOINT: `http://127.0.0.1:${moto}`,
      SQS_QUEUE_URL: `http://127.0.0.1:${moto}/123456789012/upload-events`,
      UPLOAD_API_PORT: String(ports['upload-api']),
      SYNC_NOTIFIER_PORT: String(ports['sync-notifier']),
      CHUNK_TRACKER_PORT: String(ports['chunk-tracker']),
      MEDIA_PROCESSOR_PORT: String(ports['media-processor']),
    };
  });

  afterAll(async () => {
    await run('bash', ['scripts/stack.sh', 'down'], { cwd: ROOT, env }).catch(() => undefined);
    const admin = new Client({ connectionString: testConfig().TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('up brings all four services to ready, a second up changes nothing, down leaves nothing running', async () => {
    const first = await run('bash', ['scripts/stack.sh', 'up'], { cwd: ROOT, env, timeout: 240_000 });
    expect(first.stdout).toContain(`http://127.0.0.1:${ports['upload-api']}`);
    expect(first.stdout).toContain('Dev credentials');

    const pids = SERVICES.map((s) => Number(readFileSync(path.join(stackDir, 'run', `${s}.pid`), 'utf8')));
    const motoPid = Number(readFileSync(path.join(stackDir, 'run', 'moto.pid'), 'utf8'));
    for (const name of SERVICES) {
      const ready = await fetch(`http://127.0.0.1:${ports[name]}/health/ready`);
      expect(ready.status).toBe(200);
      const doc = (await ready.json()) as { details: Record<string, { status: string }> };
      expect(Object.keys(doc.details)).toEqual(expect.arrayContaining(['database', 'redis']));
      const metrics = await (await fetch(`http://127.0.0.1:${ports[name]}/metrics`)).text();
      expect(metrics).toContain(`service="${name}"`);
    }

    const second = await run('bash', ['scripts/stack.sh', 'up'], { cwd: ROOT, env, timeout: 60_000 });
    expect(second.stderr).toContain('already up; nothing to do');
    expect(SERVICES.map((s) => Number(readFileSync(path.join(stackDir, 'run', `${s}.pid`), 'utf8')))).toEqual(pids);

    await run('bash', ['scripts/stack.sh', 'down'], { cwd: ROOT, env, timeout: 90_000 });
    for (const pid of [...pids, motoPid]) expect(alive(pid)).toBe(false);
    for (const name of [...SERVICES, 'moto']) expect(existsSync(path.join(stackDir, 'run', `${name}.pid`))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${ports['upload-api']}/health/live`)).rejects.toThrow();
  });

  it('STORAGE=rgw up runs the system on Ceph RGW: an upload is announced by a pushed event; down stops RGW too', async () => {
    // Its own RGW (ports 5110-5121), apart from the tiers' (5078-5089).
    const rgwEnv = { ...env, STORAGE: 'rgw', RGW_PORT: '5110', S3_BUCKET: `stack-${randomBytes(4).toString('hex')}` };
    const up = await run('bash', ['scripts/stack.sh', 'up'], { cwd: ROOT, env: rgwEnv, timeout: 300_000 });
    expect(up.stdout).toContain('S3 (Ceph RGW)    http://127.0.0.1:5110');
    const tracker = (await (await fetch(`http://127.0.0.1:${ports['chunk-tracker']}/health/ready`)).json()) as { details: Record<string, unknown> };
    expect(Object.keys(tracker.details)).not.toContain('sqs');

    const api = `http://127.0.0.1:${ports['upload-api']}`;
    const headers = await aliceOfNewTenant(api, up.stdout, 'rgw');
    const created = await (
      await fetch(`${api}/v1/uploads`, { method: 'POST', headers, body: JSON.stringify({ filename: 'a.txt', size: 5, contentType: 'text/plain' }) })
    ).json();
    expect((await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: 'hello' })).status).toBe(200);
    let status = '';
    for (let i = 0; i < 100 && !['uploaded', 'processing', 'ready'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await (await fetch(`${api}/v1/uploads/${created.id}?parts=ledger`, { headers })).json()).status;
    }
    expect(['uploaded', 'processing', 'ready']).toContain(status);

    await run('bash', ['scripts/stack.sh', 'down'], { cwd: ROOT, env: rgwEnv, timeout: 120_000 });
    await expect(fetch('http://127.0.0.1:5110/')).rejects.toThrow();
  });

  it('CDN=nginx up serves thumbnails through nginx in front of the bucket (MISS, then HIT); down stops nginx too', async () => {
    const cdnPort = await freePort();
    const cdnEnv = { ...env, CDN: 'nginx', CDN_PORT: String(cdnPort) };
    const up = await run('bash', ['scripts/stack.sh', 'up'], { cwd: ROOT, env: cdnEnv, timeout: 240_000 });
    expect(up.stdout).toContain(`CDN (nginx)      http://127.0.0.1:${cdnPort}`);

    const api = `http://127.0.0.1:${ports['upload-api']}`;
    const headers = await aliceOfNewTenant(api, up.stdout, 'cdn');
    const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#36c' } })
      .png()
      .toBuffer();
    const created = await (
      await fetch(`${api}/v1/uploads`, { method: 'POST', headers, body: JSON.stringify({ filename: 'a.png', size: png.length, contentType: 'image/png' }) })
    ).json();
    expect((await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: new Uint8Array(png) })).status).toBe(200);
    let file: { status?: string; thumbUrl?: string | null } = {};
    for (let i = 0; i < 150 && file.status !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      file = await (await fetch(`${api}/v1/files/${created.id}`, { headers })).json();
    }
    expect(file.status).toBe('ready');
    expect(file.thumbUrl?.startsWith(`http://127.0.0.1:${cdnPort}/variants/`)).toBe(true);
    expect((await fetch(file.thumbUrl!)).headers.get('x-cache')).toBe('MISS');
    expect((await fetch(file.thumbUrl!)).headers.get('x-cache')).toBe('HIT');

    await run('bash', ['scripts/stack.sh', 'down'], { cwd: ROOT, env: cdnEnv, timeout: 120_000 });
    await expect(fetch(`http://127.0.0.1:${cdnPort}/`)).rejects.toThrow();
  });
});
