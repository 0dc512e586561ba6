import { decodeS3Key, parseS3Notification, storageEventKey } from './s3-event';

const record = (eventName: string, key: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  eventTime: '2026-11-21T08:00:00.000Z',
  eventName,
  s3: { bucket: { name: 'uploads' }, object: { key, size: 11, eTag: '"abc"', ...extra } },
});

describe('parseS3Notification', () => {
  it('returns nothing for the s3:TestEvent sent when notifications are configured', () => {
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' }))).toEqual([]);
  });

  it('decodes records: + is a space, %2F a slash, quotes stripped from the ETag', () => {
    const events = parseS3Notification(JSON.stringify({ Records: [record('ObjectCreated:Put', 'uploads/a+b%2Fc%2Bd', { sequencer: '0055' })] }));
    expect(events).toEqual([
      {
        eventName: 'ObjectCreated:Put',
        bucket: 'uploads',
        key: 'uploads/a b/c+d',
        size: 11,
        etag: 'abc',
        sequencer: '0055',
        eventTime: '2026-11-21T08:00:00.000Z',
      },
    ]);
  });

  it('unwraps an SNS envelope (S3 -> SNS -> SQS fan-out)', () => {
    const inner = JSON.stringify({ Records: [record('ObjectRemoved:Delete', 'uploads/x')] });
    const events = parseS3Notification(JSON.stringify({ Type: 'Notification', Message: inner }));
    expect(events.map((e) => e.eventName)).toEqual(['ObjectRemoved:Delete']);
  });

  it('skips malformed records but keeps the good ones', () => {
    const events = parseS3Notification(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put' }, record('ObjectCreated:Put', 'uploads/ok')] }));
    expect(events.map((e) => e.key)).toEqual(['uploads/ok']);
  });

  it('throws on a body that is not JSON, so the message ends in the DLQ instead of vanishing', () => {
    expect(() => parseS3Notification('not json')).toThrow();
  });
});

describe('storageEventKey', () => {
  it('is the same for redeliveries and differs between a Put and the CompleteMultipartUpload that follows it', () => {
    const [put] = parseS3Notification(JSON.stringify({ Records: [record('ObjectCreated:Put', 'uploads/k')] }));
    const [again] = parseS3Notification(JSON.stringify({ Records: [record('ObjectCreated:Put', 'uploads/k')] }));
    const [complete] = parseS3Notification(JSON.stringify({ Records: [record('ObjectCreated:CompleteMultipartUpload', 'uploads/k')] }));
    expect(storageEventKey(put)).toBe(storageEventKey(again));
    expect(storageEventKey(put)).not.toBe(storageEventKey(complete));
  });

  it('prefers the sequencer, which orders events on AWS', () => {
    const [e] = parseS3Notification(JSON.stringify({ Records: [record('ObjectCreated:Put', 'uploads/k', { sequencer: '00A1' })] }));
    expect(storageEventKey(e)).toBe('uploads/uploads/k#ObjectCreated:Put#00A1');
  });
});

describe('decodeS3Key', () => {
  it('decodes percent-encoded UTF-8', () => {
    expect(decodeS3Key('uploads/%E2%9C%93+ok')).toBe('uploads/✓ ok');
  });
});
