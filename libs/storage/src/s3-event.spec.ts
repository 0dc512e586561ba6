import { decodeS3Key, parseS3Notification, parseS3Records, storageEventKey } from './s3-event';

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

/** A record as Ceph RGW 16.2 POSTs it to a topic's push endpoint (one record per document). */
const rgwRecord = (overrides: Record<string, unknown> = {}, object: Record<string, unknown> = {}) => ({
  eventVersion: '2.2',
  eventSource: 'ceph:s3',
  awsRegion: 'default',
  eventTime: '2026-11-29T10:00:00.123456Z',
  eventName: 'ObjectCreated:Put',
  userIdentity: { principalId: 'platform' },
  requestParameters: { sourceIPAddress: '' },
  responseElements: { 'x-amz-request-id': '9c1f.4137.1', 'x-amz-id-2': '4137-default-default' },
  s3: {
    s3SchemaVersion: '1.0',
    configurationId: 'uploads',
    bucket: { name: 'uploads', ownerIdentity: { principalId: 'platform' }, arn: 'arn:aws:s3:::uploads', id: '9c1f.4137.2' },
    object: {
      key: 'uploads/t1/f1',
      size: 11,
      eTag: '37b51d194a7513e45b56f6524f2d51f2',
      versionId: '',
      sequencer: '1A2B3C4D5E6F7081',
      metadata: [],
      tags: [],
      ...object,
    },
  },
  eventId: '1764410400.123456.37b51d194a7513e45b56f6524f2d51f2',
  opaqueData: '',
  ...overrides,
});

describe('parseS3Records (Ceph RGW push bodies)', () => {
  it('reads an RGW record: its sequencer, unquoted ETag and size', () => {
    expect(parseS3Records({ Records: [rgwRecord()] })).toEqual([
      {
        eventName: 'ObjectCreated:Put',
        bucket: 'uploads',
        key: 'uploads/t1/f1',
        size: 11,
        etag: '37b51d194a7513e45b56f6524f2d51f2',
        sequencer: '1A2B3C4D5E6F7081',
        eventTime: '2026-11-29T10:00:00.123456Z',
      },
    ]);
  });

  it.each(['ObjectCreated:Put', 'ObjectCreated:CompleteMultipartUpload', 'ObjectRemoved:Delete'])(
    'names %s as AWS does, whether or not RGW prefixes it with s3:',
    (name) => {
      const [plain] = parseS3Records({ Records: [rgwRecord({ eventName: name })] })!;
      const [prefixed] = parseS3Records({ Records: [rgwRecord({ eventName: `s3:${name}` })] })!;
      expect(prefixed.eventName).toBe(name);
      expect(storageEventKey(prefixed)).toBe(storageEventKey(plain));
    },
  );

  it('takes the key as RGW sends it: the object name, not form-encoded', () => {
    const [event] = parseS3Records({ Records: [rgwRecord({}, { key: 'uploads/a+b%2Fc' })] })!;
    expect(event.key).toBe('uploads/a+b%2Fc');
  });

  it('reads the ETag spelled etag (older RGW) and a size sent as a string', () => {
    const [event] = parseS3Records({ Records: [rgwRecord({}, { eTag: undefined, etag: 'abc', size: '1024' })] })!;
    expect([event.etag, event.size]).toEqual(['abc', 1024]);
  });

  it('treats an empty sequencer or ETag as absent, so the ledger key falls back to the next field', () => {
    const [event] = parseS3Records({ Records: [rgwRecord({}, { sequencer: '', eTag: '' })] })!;
    expect([event.sequencer, event.etag]).toEqual([null, null]);
    expect(storageEventKey(event)).toBe('uploads/uploads/t1/f1#ObjectCreated:Put#2026-11-29T10:00:00.123456Z');
  });

  it('is null for what is not a Records document, and skips records that name no object', () => {
    expect(parseS3Records({ Event: 's3:TestEvent' })).toBeNull();
    expect(parseS3Records([rgwRecord()])).toBeNull();
    expect(parseS3Records(null)).toBeNull();
    expect(parseS3Records({ Records: [null, 7, { eventName: 'ObjectCreated:Put' }, rgwRecord({}, { size: -1 })] })).toEqual([
      expect.objectContaining({ key: 'uploads/t1/f1', size: null }),
    ]);
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
