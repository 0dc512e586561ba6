import type { StorageEvent } from '@app/domain';

/** An S3 event record as it arrives: every field is checked before use. */
interface S3Record {
  eventName?: unknown;
  eventTime?: unknown;
  s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown; eTag?: unknown; sequencer?: unknown } };
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
  if (doc.Event === 's3:TestEvent' || !Array.isArray(doc.Records)) return [];
  const events: StorageEvent[] = [];
  for (const record of doc.Records as S3Record[]) {
    const object = record?.s3?.object;
    const bucket = record?.s3?.bucket?.name;
    if (typeof record?.eventName !== 'string' || typeof object?.key !== 'string' || typeof bucket !== 'string') continue;
    events.push({
      eventName: record.eventName,
      bucket,
      key: decodeS3Key(object.key),
      size: typeof object.size === 'number' ? object.size : null,
      etag: typeof object.eTag === 'string' ? object.eTag.replace(/^"|"$/g, '') : null,
      sequencer: typeof object.sequencer === 'string' ? object.sequencer : null,
      eventTime: typeof record.eventTime === 'string' ? record.eventTime : null,
    });
  }
  return events;
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
