import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { StorageEnv } from '@app/config';
import {
  createRgwStorage,
  createTestDatabase,
  createTestStorage,
  PrivateClamd,
  PrivateNginx,
  pushRgwEvents,
  envStrings,
  freePort,
  ServiceName,
  ServiceProcess,
  StorageTestEnv,
  TestDatabase,
  testConfig,
  testPresigner,
} from '@app/testing';
import { contractWatch } from './contract/contract-check';

export const ALL_SERVICES: ServiceName[] = ['upload-api', 'sync-notifier', 'chunk-tracker', 'media-processor'];

export interface E2eStack {
  db: TestDatabase;
  /** The stack's bucket, on moto or on Ceph RGW. */
  storage: StorageEnv;
  /** The stack's malware scanner: a test may stop and start it (an outage). */
  clamd: PrivateClamd;
  /** The stack's CDN, with `cdn: 'nginx'`: nginx in front of the bucket, as `CDN=nginx npm run up` runs it. */
  cdn: PrivateNginx | null;
  /** The bucket's event queue: on moto only (RGW pushes its events to chunk-tracker over HTTP). */
  sqs: StorageTestEnv | null;
  env: Record<string, string>;
  services: Map<ServiceName, ServiceProcess>;
  service(name: ServiceName): ServiceProcess;
  /** Starts (or restarts) one service as a new process on its port and waits until it is ready. */
  restart(name: ServiceName): Promise<ServiceProcess>;
  sql<T extends object>(text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/**
 * The four services as real processes on free ports, with their own database (a template clone),
 * their own bucket + queue on the test emulator (or a bucket on Ceph RGW pushing its events to
 * chunk-tracker, `storage: 'rgw'`), and a unique queue prefix in Redis. `cdn: 'nginx'` puts a
 * caching nginx of its own in front of the bucket, whose policy lets it read the variants.
 */
export async function startStack(
  opts: { redisUrl?: string; services?: ServiceName[]; env?: Record<string, string>; storage?: 'moto' | 'rgw'; cdn?: 'nginx' } = {},
): Promise<E2eStack> {
  const cfg = testConfig();
  const db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
  const ports = new Map<ServiceName, number>();
  const cdnEnv = opts.cdn ? { CDN: opts.cdn, CDN_ORIGIN_SOURCE_CIDRS: ['127.0.0.1/32'] } : undefined;
  const rgw = opts.storage === 'rgw' ? await createRgwStorage(cfg, { cdn: cdnEnv }) : null;
  const sqs = rgw ? null : await createTestStorage(cfg.TEST_MOTO_URL, { visibilityTimeoutSeconds: 10, cdn: cdnEnv });
  let events: Record<string, string> = {};
  if (rgw) {
    // RGW has no SQS: its topic pushes to chunk-tracker (ADR 0018), whose port is chosen first.
    const secret = randomBytes(24).toString('base64url');
    ports.set('chunk-tracker', await freePort());
    await pushRgwEvents(rgw, `http://127.0.0.1:${ports.get('chunk-tracker')}/v1/storage-events?access_token=${secret}`);
    events = { STORAGE_EVENTS: 'http-push', STORAGE_EVENTS_PUSH_SECRETS: secret };
  }
  const storage: StorageEnv = rgw ? rgw.env : sqs!;
  const clamd = new PrivateClamd(await freePort());
  await clamd.start();
  const cdnSecret = randomBytes(24).toString('base64url');
  const cdn = opts.cdn ? new PrivateNginx({ port: await freePort(), secret: cdnSecret, s3: storage }) : null;
  await cdn?.start();
  const env = envStrings({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: throughPgBouncer(db.url, cfg.TEST_E2E_PGBOUNCER_PORT),
    DATABASE_POOL_MAX: 5,
    // A private Redis (a test that stops it) is standalone; otherwise the tier's, a cluster under npm test.
    REDIS_URL: opts.redisUrl ?? cfg.TEST_E2E_REDIS_URL ?? cfg.TEST_REDIS_URL,
    REDIS_CLUSTER: !opts.redisUrl && cfg.TEST_E2E_REDIS_URL ? cfg.TEST_E2E_REDIS_CLUSTER : 'false',
    QUEUE_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
    ...(sqs ?? storage),
    ...events,
    // The production long poll, so shutdown is shown to be quick even while parked in a poll.
    SQS_WAIT_SECONDS: 20,
    ADMIN_TOKEN: 'e2e-admin-token-0123456789',
    TOKEN_SIGNING_SECRET: 'e2e-token-signing-secret-0123456789abcdef',
    SHUTDOWN_TIMEOUT_MS: 8_000,
    MEDIA_QUEUES: 'verify,scan,image,video,transcode',
    // Every stack scans with a clamd of its own (a test may stop it), on the shipped signatures.
    CLAMD_PORT: clamd.port,
    ...(cdn ? { CDN: 'nginx', CDN_BASE_URL: cdn.baseUrl, CDN_NGINX_SECRET: cdnSecret, CDN_ORIGIN_SOURCE_CIDRS: '127.0.0.1/32' } : {}),
    ...opts.env,
  });
  const services = new Map<ServiceName, ServiceProcess>();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();

  const restart = async (name: ServiceName) => {
    if (!ports.has(name)) ports.set(name, await freePort());
    const proc = new ServiceProcess(name, ports.get(name)!, env).start();
    services.set(name, proc);
    await proc.ready();
    if (name === 'upload-api' || name === 'sync-notifier') contractWatch.register(name, proc.url);
    return proc;
  };
  const stack: E2eStack = {
    db,
    storage,
    clamd,
    cdn,
    sqs,
    env,
    services,
    service: (name) => {
      const s = services.get(name);
      if (!s) throw new Error(`${name} is not running`);
      return s;
    },
    restart,
    sql: async <T extends object>(text: string, values: unknown[] = []) => (await pg.query(text, values)).rows as T[],
    stop: async () => {
      await Promise.all([...services.values()].map((s) => s.stop('SIGTERM')));
      await pg.end();
      await db.drop();
      await rgw?.dispose();
      await clamd.dispose();
      await cdn?.dispose();
    },
  };
  try {
    await Promise.all((opts.services ?? ALL_SERVICES).map((name) => restart(name)));
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

export { sleep, until } from '@app/testing';

/** Uploads bytes the way a client does: a presigned PUT straight to storage. */
export async function presignedPut(storage: StorageEnv, key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
  const { presigner, s3 } = testPresigner(storage);
  try {
    const url = await presigner.putObject(key, { contentType, contentLength: body.length });
    const res = await fetch(url.url, { method: 'PUT', headers: url.headers, body: new Uint8Array(body) });
    if (res.status !== 200) throw new Error(`PUT ${key} answered ${res.status}: ${await res.text()}`);
  } finally {
    s3.destroy();
  }
}

/** A user token for one owner of a tenant, minted by the stack's upload-api (what a team's backend does). */
export async function userToken(stack: E2eStack, apiKey: string, ownerId: string): Promise<string> {
  const res = await fetch(`${stack.service('upload-api').url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ownerId }),
  });
  if (res.status !== 201) throw new Error(`token minting answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** A tenant created through the admin API of the stack's upload-api: its id and API key. */
export async function createTenant(stack: E2eStack, body: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string }> {
  const res = await fetch(`${stack.service('upload-api').url}/v1/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'e2e', ...body }),
  });
  if (res.status !== 201) throw new Error(`tenant creation answered ${res.status}`);
  return (await res.json()) as { id: string; apiKey: string };
}

/** The services' database URL: through the tier's PgBouncer when there is one (the test's own reads go straight to Postgres). */
function throughPgBouncer(url: string, port: number | undefined): string {
  if (!port) return url;
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return proxied.toString();
}
