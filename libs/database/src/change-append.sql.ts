import type { ChangeType } from '@app/contracts';
import { currentRequestId } from '@app/observability';
import { Prisma } from './generated/prisma/client';

/**
 * The SQL of the change outbox (ChangeOutbox): common table expressions that append one change to
 * the owner's feed for the row of `source` (a CTE with columns tenant_id, owner_id, file_id) and
 * write a webhook delivery for each of the tenant's live endpoints subscribed to its type, with
 * the delivery body (Standard Webhooks' `{ type, timestamp, data }`). They end in two CTEs the
 * caller selects from: `change` (id, seq, created_at) and `deliveries` (id).
 *
 * Written as CTEs so a whole step (a file row, its quota, its change and its deliveries) is one
 * statement: one round trip while the rows it locks stay locked, not one per table.
 *
 * Each change records the request whose work appended it (issue #16): the request or job in
 * progress, else the one that initiated its file (a batch of storage events runs under none).
 *
 * The owner's sequence row is incremented with INSERT ... ON CONFLICT DO UPDATE, which holds its
 * row lock until commit: a second writer for the same owner waits, so sequence numbers are
 * handed out in commit order and a reader that has seen N can never later find an N-1 it skipped.
 */
export function appendChangeCtes(source: string, change: { type: ChangeType; data: Record<string, unknown> }): Prisma.Sql {
  const src = Prisma.raw(source);
  const data = JSON.stringify(change.data);
  const requestId = currentRequestId() ?? null;
  return Prisma.sql`
    seq AS (
      INSERT INTO owner_sequences (tenant_id, owner_id, last_seq)
      SELECT tenant_id, owner_id, 1 FROM ${src}
      ON CONFLICT (tenant_id, owner_id) DO UPDATE SET last_seq = owner_sequences.last_seq + 1
      RETURNING tenant_id, owner_id, last_seq
    ),
    change AS (
      INSERT INTO change_events (tenant_id, owner_id, seq, type, file_id, payload, request_id)
      SELECT s.tenant_id, s.owner_id, seq.last_seq, ${change.type}::text, s.file_id, ${data}::jsonb,
             COALESCE(${requestId}::text, (SELECT f.request_id FROM files f WHERE f.id = s.file_id))
      FROM ${src} s JOIN seq ON seq.tenant_id = s.tenant_id AND seq.owner_id = s.owner_id
      RETURNING id, tenant_id, owner_id, seq, file_id, created_at
    ),
    deliveries AS (
      INSERT INTO webhook_deliveries (id, webhook_id, change_event_id, event_type, payload)
      SELECT gen_random_uuid(), w.id, c.id, ${change.type}::text,
             jsonb_build_object(
               'type', ${change.type}::text,
               'timestamp', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', ${data}::jsonb || jsonb_build_object('fileId', c.file_id, 'ownerId', c.owner_id, 'cursor', c.seq::text))
      FROM change c JOIN webhooks w ON w.tenant_id = c.tenant_id
      WHERE w.disabled_at IS NULL AND (${change.type}::text = ANY(w.events) OR '*' = ANY(w.events))
      RETURNING id::text
    )`;
}

/** What the statement answers about the change it appended. */
export interface AppendedRow {
  change_id: bigint;
  change_seq: bigint;
  change_created_at: Date;
  delivery_ids: string[];
}

/** The select list that reads `change` and `deliveries` back (with `AppendedRow`'s names). */
export const APPENDED = Prisma.sql`
  (SELECT id FROM change) AS change_id, (SELECT seq FROM change) AS change_seq,
  (SELECT created_at FROM change) AS change_created_at, ARRAY(SELECT id FROM deliveries) AS delivery_ids`;
