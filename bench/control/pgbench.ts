import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FILE_COLUMNS_SQL } from '@app/database';

export const SMALL_FILE_BYTES = 1024;
/** Owners per tenant the initiations rotate over, in the API scenarios and here alike. */
export const OWNERS_PER_TENANT = 64;
/** Quota stripes per tenant (QUOTA_STRIPES), given to upload-api and used here alike. */
export const QUOTA_STRIPES = 16;

// The statement's RETURNING list is the service's own (libs/database).
const FILE_COLUMNS = FILE_COLUMNS_SQL;

/** The values the service computes (ids, names) are computed in SQL from pgbench's variables. */
const VARIABLES = `\\set owner random(1, ${OWNERS_PER_TENANT})
\\set stripe random(0, ${QUOTA_STRIPES - 1})
\\set a random(1, 2000000000)
\\set b random(1, 2000000000)
`;
const FILE_ID = `md5(:client_id::text || '.' || :a::text || '.' || :b::text)::uuid`;
const OWNER = `('owner-' || :owner::text)`;
const CHANGE_DATA = `'{"filename":"bench.bin","size":${SMALL_FILE_BYTES},"contentType":"application/octet-stream","mode":"single"}'`;

/**
 * The statement upload-api runs for one single-PUT initiation (libs/database:
 * FileTransitionRepository.createUpload with appendChangeCtes, ADR 0015): the conditional quota
 * UPDATE that locks one of the tenant's quota stripes (ADR 0017; upload-api has dealt them out
 * before pgbench runs, so no admission here needs a rebalance), the file row, the owner-sequence
 * upsert, the change and its webhook outbox rows (no endpoint matches), as one statement
 * committing on its own. What pgbench gets out of it is this machine's ceiling for an initiation.
 */
export function initiationStatement(tenantId: string): string {
  return `${VARIABLES}WITH admitted AS (
  UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${SMALL_FILE_BYTES}::bigint, used_bytes = q.used_bytes + 0::bigint, updated_at = now()
  WHERE q.tenant_id = '${tenantId}'::uuid AND q.stripe = :stripe::smallint
    AND q.used_bytes + q.reserved_bytes + ${SMALL_FILE_BYTES}::bigint <= q.allotment_bytes
  RETURNING q.tenant_id
),
inserted AS (
  INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, declared_sha256, storage_key, mode,
                     part_size, part_count, checksum_algorithm, metadata, expires_at, status, quota_stripe, updated_at)
  SELECT ${FILE_ID}, admitted.tenant_id, ${OWNER}, 'bench-' || :a::text || '.bin', 'application/octet-stream',
         ${SMALL_FILE_BYTES}::bigint, NULL::text, 'uploads/${tenantId}/' || ${FILE_ID}::text, 'single'::upload_mode,
         NULL::bigint, NULL::int, NULL::text, NULL::jsonb, now() + interval '1 day', 'pending'::file_status, :stripe::smallint, now()
  FROM admitted
  RETURNING ${FILE_COLUMNS}
),
src AS (SELECT "tenantId"::uuid AS tenant_id, "ownerId" AS owner_id, "id"::uuid AS file_id FROM inserted),
seq AS (
  INSERT INTO owner_sequences (tenant_id, owner_id, last_seq)
  SELECT tenant_id, owner_id, 1 FROM src
  ON CONFLICT (tenant_id, owner_id) DO UPDATE SET last_seq = owner_sequences.last_seq + 1
  RETURNING tenant_id, owner_id, last_seq
),
change AS (
  INSERT INTO change_events (tenant_id, owner_id, seq, type, file_id, payload)
  SELECT s.tenant_id, s.owner_id, seq.last_seq, 'upload.created'::text, s.file_id, ${CHANGE_DATA}::jsonb
  FROM src s JOIN seq ON seq.tenant_id = s.tenant_id AND seq.owner_id = s.owner_id
  RETURNING id, tenant_id, owner_id, seq, file_id, created_at
),
deliveries AS (
  INSERT INTO webhook_deliveries (id, webhook_id, change_event_id, event_type, payload)
  SELECT gen_random_uuid(), w.id, c.id, 'upload.created'::text,
         jsonb_build_object(
           'type', 'upload.created'::text,
           'timestamp', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', ${CHANGE_DATA}::jsonb || jsonb_build_object('fileId', c.file_id, 'ownerId', c.owner_id, 'cursor', c.seq::text))
  FROM change c JOIN webhooks w ON w.tenant_id = c.tenant_id
  WHERE w.disabled_at IS NULL AND ('upload.created'::text = ANY(w.events) OR '*' = ANY(w.events))
  RETURNING id::text
)
SELECT inserted.*, (SELECT id FROM change) AS change_id, (SELECT seq FROM change) AS change_seq,
       (SELECT created_at FROM change) AS change_created_at, ARRAY(SELECT id FROM deliveries) AS delivery_ids
FROM inserted;
`;
}

/**
 * The same initiation as upload-api ran it before ADR 0015 (commit 6ee0e3b): a transaction of one
 * round trip per statement, the tenant's quota row (then its only one: stripe 0) locked from the
 * first to COMMIT. `\gset` carries results forward as the service did. Kept as the reference of
 * what the one statement buys.
 */
export function initiationRoundTrips(tenantId: string): string {
  return `${VARIABLES}BEGIN;
UPDATE quota_usage q SET reserved_bytes = q.reserved_bytes + ${SMALL_FILE_BYTES}, used_bytes = q.used_bytes + 0, updated_at = now()
  FROM tenants t
  WHERE q.tenant_id = '${tenantId}'::uuid AND q.stripe = 0 AND t.id = q.tenant_id
    AND q.used_bytes + q.reserved_bytes + ${SMALL_FILE_BYTES} <= t.quota_bytes;
INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, declared_sha256, storage_key, mode, part_size, part_count,
                   checksum_algorithm, status, expires_at, updated_at)
  VALUES (${FILE_ID}, '${tenantId}'::uuid, ${OWNER}, 'bench-' || :a::text || '.bin', 'application/octet-stream', ${SMALL_FILE_BYTES}, NULL,
          'uploads/${tenantId}/' || ${FILE_ID}::text, 'single', NULL, NULL, NULL, 'pending', now() + interval '1 day', now())
  RETURNING *;
INSERT INTO owner_sequences (tenant_id, owner_id, last_seq) VALUES ('${tenantId}'::uuid, ${OWNER}, 1)
  ON CONFLICT (tenant_id, owner_id) DO UPDATE SET last_seq = owner_sequences.last_seq + 1
  RETURNING last_seq \\gset
INSERT INTO change_events (tenant_id, owner_id, seq, type, file_id, payload)
  VALUES ('${tenantId}'::uuid, ${OWNER}, :last_seq::bigint, 'upload.created', ${FILE_ID}, ${CHANGE_DATA}::jsonb)
  RETURNING id AS change_id, seq, created_at \\gset
INSERT INTO webhook_deliveries (id, webhook_id, change_event_id, event_type, payload)
  SELECT gen_random_uuid(), w.id, :change_id::bigint, 'upload.created', ${CHANGE_DATA}::jsonb
  FROM webhooks w
  WHERE w.tenant_id = '${tenantId}'::uuid AND w.disabled_at IS NULL AND ('upload.created' = ANY(w.events) OR '*' = ANY(w.events))
  RETURNING id::text;
COMMIT;
`;
}

export interface PgbenchResult {
  tps: number;
  p50Ms: number;
  p99Ms: number;
  transactions: number;
}

/**
 * pgbench with `clients` connections for `seconds`, each transaction one of `scripts` (equal
 * weights), on the database at `url`. The simple protocol substitutes variables as text and leaves
 * everything else alone (the extended one would take the `:34` of a JSON literal for a variable). Throughput from pgbench itself; latency percentiles from its
 * per-transaction log (`--log`), which pgbench does not summarise beyond the mean.
 */
export async function pgbench(url: string, scripts: string[], opts: { clients: number; seconds: number }): Promise<PgbenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-pgbench-'));
  try {
    const files: string[] = [];
    for (const [i, script] of scripts.entries()) {
      const file = path.join(dir, `initiation-${i}.sql`);
      await writeFile(file, script);
      files.push('-f', `${file}@1`);
    }
    const args = ['-n', '-M', 'simple', '-c', String(opts.clients), '-j', '2', '-T', String(opts.seconds), '-l', `--log-prefix=${path.join(dir, 'log')}`];
    const { stdout } = await promisify(execFile)('pgbench', [...args, ...files, url], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    if (!Number.isFinite(tps) || failed > 0) throw new Error(`pgbench did not finish cleanly:\n${stdout}`);
    const latenciesUs: number[] = [];
    for (const log of (await readdir(dir)).filter((f) => f.startsWith('log.'))) {
      for (const line of (await readFile(path.join(dir, log), 'utf8')).split('\n')) {
        // client_id transaction_no time(us) script_no time_epoch time_us
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) latenciesUs.push(us);
      }
    }
    latenciesUs.sort((a, b) => a - b);
    const at = (p: number) => (latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(p * latenciesUs.length))] ?? NaN) / 1000;
    return { tps, p50Ms: at(0.5), p99Ms: at(0.99), transactions: latenciesUs.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
