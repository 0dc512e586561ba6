import type { StorageEvent } from '@app/domain';

/** An S3 event record as it arrives: every field is checked before use. */
interface S3Record {
  eventSource?: unknown;
  eventName?: unknown;
  eventTime?: unknown;
  s3?: {
    bucket?: { name?: unknown };
    object?: { key?: unknown; size?: unknown; eTag?: unknown; etag?: unknown; sequencer?: unknown };
  };
}

/**
 * Parses an SQS message body carrying S3 event notifications into decoded StorageEvents.
 * Handles the shapes real deployments produce: direct S3 -> SQS, S3 -> SNS -> SQS (an SNS
 * envelope), and the `s3:TestEvent` S3 sends when notifications are configured (no Records).
 * Returns [] for messages with nothing to act on; throws on a body that is not JSON at all,
 * which the consumer treats as poison (it goes to the DLQ after maxReceiveCount).
 */
export function parseS3Notification(body: string): StorageEvent[] {
  let doc = JSON.parse(body) as Record<string, unknown>;
  if (doc.Type === 'Notification' && typeof doc.Message === 'string') doc = JSON.parse(doc.Message) as Record<string, unknown>;
  if (doc.Event === 's3:TestEvent') return [];
  return parseS3Records(doc) ?? [];
}

/**
 * The events of one `{ "Records": [...] }` document (what SQS carries, and what Ceph RGW's topic
 * POSTs to its push endpoint), or null when `doc` is not such a document. Records that are not
 * object events (no event name, bucket or key) are skipped; the good ones are kept.
 *
 * RGW's records (eventSource `ceph:s3`, docs/adr/0018-storage-events-http-push.md) differ from
 * AWS's: older releases name the event `s3:ObjectCreated:Put` (AWS: `ObjectCreated:Put`), some
 * spell the ETag `etag`, some documents show the size as a string, and the key is the object's
 * name as it is, not form-encoded. All are normalised here, so the ledger key of an event is the
 * same whichever source delivered it.
 */
export function parseS3Records(doc: unknown): StorageEvent[] | null {
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { Records?: unknown }).Records)) return null;
  const events: StorageEvent[] = [];
  for (const record of (doc as { Records: unknown[] }).Records as (S3Record | null)[]) {
    const object = record?.s3?.object;
    const bucket = record?.s3?.bucket?.name;
    if (typeof record?.eventName !== 'string' || typeof object?.key !== 'string' || typeof bucket !== 'string') continue;
    const etag = object.eTag ?? object.etag;
    events.push({
      eventName: record.eventName.replace(/^s3:/, ''),
      bucket,
      key: record.eventSource === 'ceph:s3' ? object.key : decodeS3Key(object.key),
      size: sizeOf(object.size),
      etag: typeof etag === 'string' && etag !== '' ? etag.replace(/^"|"$/g, '') : null,
      sequencer: typeof object.sequencer === 'string' && object.sequencer !== '' ? object.sequencer : null,
      eventTime: typeof record.eventTime === 'string' ? record.eventTime : null,
    });
  }
  return events;
}

function sizeOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value === 'string' && /^[0-9]{1,16}$/.test(value)) return Number(value);
  return null;
}

/** S3 event keys are form-encoded: `+` is a space, the rest is percent-encoding (including %2F). */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/**
 * A key identifying one storage event across SQS redeliveries. The sequencer (AWS) orders events
 * per key; emulators without one fall back to the ETag, which differs between object versions.
 */
export function storageEventKey(e: StorageEvent): string {
  return `${e.bucket}/${e.key}#${e.eventName}#${e.sequencer ?? e.etag ?? e.eventTime ?? ''}`;
}
