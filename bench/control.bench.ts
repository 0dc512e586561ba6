import { Client } from 'pg';
import { z } from 'zod';
import { loadConfig } from '@app/config';
import { encodePageCursor } from '@app/http';
import { STORED } from '@app/lifecycle';
import { freePort, ServiceProcess, sleep } from '@app/testing';
import { benchStack } from './bench-stack';
import { EchoServer, load, LoadResult, RequestShape } from './control/load';
import { initiationRoundTrips, initiationStatement, OWNERS_PER_TENANT, pgbench, QUOTA_STRIPES, SMALL_FILE_BYTES } from './control/pgbench';
import { PendingUpload, trackerDrain } from './control/tracker-drain';
import { round } from './presign.bench';

const CONNECTIONS = 32;
/** upload-api's Postgres pool (the DATABASE_POOL_MAX default, set explicitly). */
const API_POOL = 10;
const TENANTS = 8;
const SEEDED_FILES = 60_000;
const DEEP_ROW = 50_000;
const GiB = 1024 ** 3;
/** Rounds of each scenario in an alternating comparison (the median of them is reported). */
const ALTERNATING_ROUNDS = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Shorter runs for trying the benchmark out: BENCH_CONTROL_SECONDS=1 BENCH_CONTROL_EVENTS=100 npm run bench -- control. */
const controlEnv = z.object({
  BENCH_CONTROL_SECONDS: z.coerce.number().int().min(1).default(5),
  BENCH_CONTROL_EVENTS: z.coerce.number().int().min(10).default(500),
  /** A directory: upload-api writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
  BENCH_CPU_PROFILE_DIR: z.string().optional(),
});

const json = (apiKey: string, ownerId: string) => ({ authorization: `Bearer ${apiKey}`, 'x-owner-id': ownerId, 'content-type': 'application/json' });

/** Initiations with distinct filenames, rotating over `apiKeys` (tenants) and each tenant's owners. */
function initiate(apiKeys: string[], size: number): RequestShape {
  let i = 0;
  return {
    method: 'POST',
    path: '/v1/uploads',
    next: () => {
      const n = i++;
      const owner = `owner-${Math.floor(n / apiKeys.length) % OWNERS_PER_TENANT}`;
      return {
        headers: json(apiKeys[n % apiKeys.length], owner),
        body: JSON.stringify({ filename: `bench-${n}.bin`, size, contentType: 'application/octet-stream' }),
      };
    },
  };
}

function signParts(apiKey: string, uploadIds: string[]): RequestShape {
  let i = 0;
  const body = JSON.stringify({ partNumbers: [1, 2, 3, 4, 5, 6, 7, 8] });
  return {
    method: 'POST',
    path: `/v1/uploads/${uploadIds[0]}/parts`,
    next: () => ({ path: `/v1/uploads/${uploadIds[i++ % uploadIds.length]}/parts`, headers: json(apiKey, 'owner-0'), body }),
  };
}

function listFiles(apiKey: string, cursor?: string): RequestShape {
  const path = cursor ? `/v1/files?cursor=${cursor}` : '/v1/files';
  return { method: 'GET', path, next: () => ({ headers: { authorization: `Bearer ${apiKey}`, 'x-owner-id': 'lister' } }) };
}

async function post<T>(url: string, headers: Record<string, string>, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Issue #10: the control plane against what this machine allows, in one run. upload-api (a real
 * process, production settings, rate limit lifted) under 32 connections vs a bare Fastify echo of
 * the same requests; its initiation vs pgbench running the same transaction on the same Postgres;
 * one tenant vs eight; chunk-tracker draining S3 events vs a bare SQS receive + delete loop.
 */
export async function benchControl(): Promise<Record<string, number>> {
  const { BENCH_CONTROL_SECONDS: seconds, BENCH_CONTROL_EVENTS: events, BENCH_CPU_PROFILE_DIR: profileDir } = loadConfig(controlEnv);
  const { cfg, db, env } = await benchStack({ RATE_LIMIT_PER_MINUTE: 0, API_KEY_RATE_LIMIT_PER_MINUTE: 0, DATABASE_POOL_MAX: API_POOL, QUOTA_STRIPES });
  const profile: Record<string, string> = profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {};
  const api = new ServiceProcess('upload-api', await freePort(), { ...env, ...profile }).start();
  const echo = new EchoServer();
  const sql = new Client({ connectionString: db.url });
  let sqlOpen = false;
  const closeSql = async () => {
    if (sqlOpen) await sql.end();
    sqlOpen = false;
  };
  let copy: { url: string; drop(): Promise<void> } | undefined;
  const r: Record<string, number> = {};
  try {
    await Promise.all([api.ready(), echo.start(), sql.connect().then(() => (sqlOpen = true))]);
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const tenant = (name: string) => post<{ id: string; apiKey: string }>(`${api.url}/v1/admin/tenants`, admin, { name, quotaBytes: Number.MAX_SAFE_INTEGER });
    const one = await tenant('bench');
    const eight = await Promise.all(Array.from({ length: TENANTS }, (_, i) => tenant(`bench-${i}`)));

    // The owner whose list is paged: SEEDED_FILES stored files, one a second back from now.
    await sql.query(
      `INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, storage_key, mode, status, expires_at, created_at, updated_at,
                          status_changed_at, uploaded_at, ready_at)
       SELECT gen_random_uuid(), $1::uuid, 'lister', 'photo-' || g || '.jpg', 'image/jpeg', 100000 + g, 'uploads/' || $1 || '/seed-' || g, 'single',
              'ready', now(), now() - g * interval '1 second', now(), now(), now(), now()
       FROM generate_series(1, $2::int) g`,
      [one.id, SEEDED_FILES],
    );
    // Vacuumed as well as analysed: autovacuum would otherwise visit the 60,000 new rows mid-run.
    await sql.query('VACUUM ANALYZE files');
    const { rows: deep } = await sql.query<{ created_at: Date; id: string }>(
      `SELECT created_at, id FROM files WHERE tenant_id = $1 AND owner_id = 'lister' AND status::text = ANY($2)
       ORDER BY created_at DESC, id DESC OFFSET ${DEEP_ROW - 1} LIMIT 1`,
      [one.id, [...STORED]],
    );
    const deepCursor = encodePageCursor({ createdAt: deep[0].created_at, id: deep[0].id });
    const deepPage = await fetch(`${api.url}/v1/files?cursor=${deepCursor}`, { headers: { authorization: `Bearer ${one.apiKey}`, 'x-owner-id': 'lister' } });
    const { items } = (await deepPage.json()) as { items: unknown[] };
    if (deepPage.status !== 200 || items.length !== 50) throw new Error(`the page at row ${DEEP_ROW} answered ${deepPage.status} with ${items.length} files`);

    // Multipart uploads whose parts are signed, one per connection.
    const multipart = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) =>
        post<{ id: string }>(`${api.url}/v1/uploads`, json(one.apiKey, 'owner-0'), { filename: `signed-${i}.bin`, size: GiB, contentType: 'video/mp4' }),
      ),
    );

    let failures = 0;
    const record = (name: string, ours: LoadResult) => {
      r[`${name}Rps`] = round(ours.rps, 1);
      r[`${name}P50Ms`] = round(ours.p50Ms, 1);
      r[`${name}P99Ms`] = round(ours.p99Ms, 1);
      failures += ours.failures;
    };
    const measureBare = async (name: string, shape: RequestShape, ours: LoadResult) => {
      const ceiling = await load(echo.url, shape, { connections: CONNECTIONS, seconds });
      r[`${name}BareRps`] = round(ceiling.rps, 0);
      r[`${name}BareP99Ms`] = round(ceiling.p99Ms, 1);
      r[`${name}VsBare`] = round(ours.rps / ceiling.rps, 4);
      failures += ceiling.failures;
    };
    const report = (name: string) =>
      process.stdout.write(
        `  ${name}: ${r[`${name}Rps`]} req/s, p99 ${r[`${name}P99Ms`]} ms${name + 'BareRps' in r ? ` (bare ${r[`${name}BareRps`]} req/s)` : ''}\n`,
      );
    const measure = async (name: string, shape: RequestShape, bare: boolean): Promise<LoadResult> => {
      await load(api.url, shape, { connections: CONNECTIONS, seconds: 1 }); // warm-up: JIT, pools, caches
      const ours = await load(api.url, shape, { connections: CONNECTIONS, seconds });
      record(name, ours);
      if (bare) await measureBare(name, shape, ours);
      report(name);
      return ours;
    };
    /**
     * Two scenarios compared with each other, in alternating rounds (A B A B A B), each figure the
     * median of its rounds: whatever drifts during a run (autovacuum, heap growth, the other
     * processes on these two cores) falls on both alike, not on whichever ran second.
     */
    const measureAlternating = async (scenarios: Array<{ name: string; shape: RequestShape }>): Promise<LoadResult[]> => {
      for (const { shape } of scenarios) await load(api.url, shape, { connections: CONNECTIONS, seconds: 1 });
      const rounds: LoadResult[][] = scenarios.map(() => []);
      for (let n = 0; n < ALTERNATING_ROUNDS; n++) {
        for (const [i, { shape }] of scenarios.entries()) rounds[i].push(await load(api.url, shape, { connections: CONNECTIONS, seconds }));
      }
      const results = rounds.map((runs) => ({
        rps: median(runs.map((x) => x.rps)),
        p50Ms: median(runs.map((x) => x.p50Ms)),
        p99Ms: median(runs.map((x) => x.p99Ms)),
        failures: runs.reduce((sum, x) => sum + x.failures, 0),
      }));
      for (const [i, { name, shape }] of scenarios.entries()) {
        record(name, results[i]);
        await measureBare(name, shape, results[i]);
        report(name);
      }
      return results;
    };
    await load(echo.url, listFiles(one.apiKey), { connections: CONNECTIONS, seconds: 2 }); // the echo's warm-up
    const single = await measure('initiateSingle', initiate([one.apiKey], SMALL_FILE_BYTES), true);
    const spread = await measure(
      'initiateEightTenants',
      initiate(
        eight.map((t) => t.apiKey),
        SMALL_FILE_BYTES,
      ),
      false,
    );
    await measure('initiateMultipart', initiate([one.apiKey], GiB), true);
    await measure(
      'signParts',
      signParts(
        one.apiKey,
        multipart.map((m) => m.id),
      ),
      true,
    );
    // The floor under every route: upload-api's liveness answer (Nest, Fastify and our hooks; no
    // authentication, no database) against the same bare echo.
    await measure('liveness', { method: 'GET', path: '/health/live', next: () => ({ headers: {} }) }, true);
    const [page1, pageDeep] = await measureAlternating([
      { name: 'listPage1', shape: listFiles(one.apiKey) },
      { name: 'listRow50000', shape: listFiles(one.apiKey, deepCursor) },
    ]);
    r.oneVsEightTenants = round(single.rps / spread.rps, 3);
    r.listRow50000VsPage1P99 = round(pageDeep.p99Ms / page1.p99Ms, 2);
    r.failedRequests = failures;

    // chunk-tracker: events of `events` pending single-PUT uploads of one tenant, initiated through the API.
    const pending = async () =>
      (
        await sql.query<{ storage_key: string; size: string }>(
          `SELECT storage_key, size FROM files WHERE tenant_id = $1 AND status = 'pending' AND mode = 'single' LIMIT $2`,
          [one.id, events],
        )
      ).rows.map((row): PendingUpload => ({ storageKey: row.storage_key, size: Number(row.size) }));
    let uploads = await pending();
    if (uploads.length < events) {
      await load(api.url, initiate([one.apiKey], SMALL_FILE_BYTES), {
        connections: CONNECTIONS,
        seconds: Math.ceil(((events - uploads.length) / single.rps) * 1.3) + 1,
      });
      uploads = await pending();
    }
    await Promise.all([api.stop(), echo.stop()]);
    try {
      const drain = await trackerDrain({ motoUrl: cfg.TEST_MOTO_URL, env, sql, uploads });
      r.trackerEventsPerSecond = round(drain.trackerEventsPerSecond, 1);
      r.bareReceiveDeletePerSecond = round(drain.bareEventsPerSecond, 1);
      r.trackerVsBare = round(drain.trackerEventsPerSecond / drain.bareEventsPerSecond, 3);
      r.bareWithHeadEventsPerSecond = round(drain.bareWithHeadEventsPerSecond, 1);
      r.trackerVsBareWithHead = round(drain.trackerEventsPerSecond / drain.bareWithHeadEventsPerSecond, 3);
      r.trackerEvents = uploads.length;
      r.trackerHandled = drain.handled;
      r.trackerUploaded = drain.uploaded;
      r.trackerWallSeconds = round(drain.trackerWallSeconds, 1);
    } catch (error) {
      // Reported as a missed target, not as a crash of the whole group.
      process.stderr.write(`chunk-tracker drain failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    await closeSql();

    // pgbench on a copy of the bench database (its tenants and rows), nothing else connected to it.
    const copyUrl = (copy = await copyDatabase(cfg.TEST_POSTGRES_URL, db.name)).url;
    const run = async (name: string, script: (tenantId: string) => string) => {
      const oneTenant = await pgbench(copyUrl, [script(one.id)], { clients: CONNECTIONS, seconds });
      const eightTenants = await pgbench(
        copyUrl,
        eight.map((t) => script(t.id)),
        { clients: CONNECTIONS, seconds },
      );
      r[`${name}OneTenantTps`] = round(oneTenant.tps, 1);
      r[`${name}OneTenantP50Ms`] = round(oneTenant.p50Ms, 1);
      r[`${name}OneTenantP99Ms`] = round(oneTenant.p99Ms, 1);
      r[`${name}EightTenantsTps`] = round(eightTenants.tps, 1);
      r[`${name}EightTenantsP99Ms`] = round(eightTenants.p99Ms, 1);
      r[`${name}OneVsEightTenants`] = round(oneTenant.tps / eightTenants.tps, 3);
      process.stdout.write(
        `  ${name}: ${r[`${name}OneTenantTps`]} tps, p99 ${r[`${name}OneTenantP99Ms`]} ms (eight tenants ${r[`${name}EightTenantsTps`]} tps)\n`,
      );
      return oneTenant;
    };
    // The statement upload-api runs, and the transaction it ran before ADR 0015 (one round trip per statement).
    const sameAsApi = initiationStatement;
    await pgbench(copyUrl, [sameAsApi(one.id)], { clients: CONNECTIONS, seconds: 1 }); // warm-up of the copy's caches
    const pgOne = await run('pgbench', sameAsApi);
    await run('pgbenchRoundTrips', initiationRoundTrips);
    // One tenant with fewer clients: as many as upload-api has connections, and one. Waiters on one
    // row lock cost Postgres throughput, so 32 clients are not the ceiling of one tenant's row.
    for (const [name, clients] of [
      ['pgbenchPoolClients', API_POOL],
      ['pgbenchOneClient', 1],
    ] as const) {
      const fewer = await pgbench(copyUrl, [sameAsApi(one.id)], { clients, seconds });
      r[`${name}OneTenantTps`] = round(fewer.tps, 1);
      r[`${name}OneTenantP99Ms`] = round(fewer.p99Ms, 1);
    }
    r.initiateVsPgbench = round(single.rps / pgOne.tps, 3);
    r.initiateP99VsPgbenchP99 = round(single.p99Ms / pgOne.p99Ms, 2);
    return r;
  } catch (error) {
    process.stderr.write(`--- upload-api\n${api.output.slice(-20).join('\n')}\n`);
    throw error;
  } finally {
    await Promise.all([api.stop(), echo.stop()]);
    await closeSql().catch(() => undefined);
    await copy?.drop();
    await db.drop();
  }
}

/** A copy of `name` (CREATE DATABASE ... TEMPLATE), retried while the stopped services' sessions end. */
async function copyDatabase(adminUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const copyName = `${name}_pgbench`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${copyName} TEMPLATE ${name}`);
        break;
      } catch (error) {
        if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
        await sleep(250);
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${copyName}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${copyName} WITH (FORCE)`);
      await c.end();
    },
  };
}
