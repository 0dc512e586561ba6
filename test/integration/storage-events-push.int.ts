import { randomBytes, randomUUID } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FileRecord, FileRepository } from '@app/database';
import { createS3Client, StorageEventSource } from '@app/storage';
import { ApiHarness, createTenant, startApi } from './api/api-harness';
import { PREVIOUS_PUSH_SECRET, PUSH_SECRET, PushTracker, startPushTracker } from './push-harness';

/**
 * Storage events pushed over HTTP, as Ceph RGW's topic sends them (docs/adr/0018): chunk-tracker
 * with STORAGE_EVENTS=http-push on real Postgres, Redis and moto, uploads made through upload-api.
 */
describe('storage events pushed over HTTP (STORAGE_EVENTS=http-push)', () => {
  let api: ApiHarness;
  let tracker: PushTracker;
  let tenant: { id: string; apiKey: string };
  let files: FileRepository;
  let s3: S3Client;

  beforeAll(async () => {
    api = await startApi();
    tracker = await startPushTracker({ databaseUrl: api.db.url, storage: api.storage, queuePrefix: `api-${api.db.name}` });
    tenant = await createTenant(api);
    files = api.app.get(FileRepository);
    s3 = createS3Client(api.storage);
  });
  afterAll(async () => {
    s3?.destroy();
    await tracker?.close();
    await api?.close();
  });

  /** A pending single-PUT upload whose bytes storage already holds (the HEAD must find them). */
  async function uploadedBytes(size = 64): Promise<{ file: FileRecord; etag: string }> {
    const init = await api.request('POST', '/v1/uploads', {
      token: tenant.apiKey,
      headers: { 'x-owner-id': 'alice' },
      body: { filename: `${randomUUID()}.bin`, size, contentType: 'application/octet-stream' },
    });
    expect(init.status).toBe(201);
    const file = (await files.find(init.body.id))!;
    const put = await s3.send(new PutObjectCommand({ Bucket: api.storage.S3_BUCKET, Key: file.storageKey, Body: randomBytes(size) }));
    return { file, etag: put.ETag!.replace(/"/g, '') };
  }
  /** The body RGW 16.2 POSTs for one event: one record, eventSource ceph:s3, the key as it is. */
  const rgwPush = (file: FileRecord, etag: string, eventName = 'ObjectCreated:Put') => ({
    Records: [
      {
        eventVersion: '2.2',
        eventSource: 'ceph:s3',
        awsRegion: 'default',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'platform' },
        requestParameters: { sourceIPAddress: '' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': '4137-default-default' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'uploads',
          bucket: { name: api.storage.S3_BUCKET, ownerIdentity: { principalId: 'platform' }, arn: `arn:aws:s3:::${api.storage.S3_BUCKET}`, id: 'b1' },
          object: {
            key: file.storageKey,
            size: Number(file.size),
            eTag: etag,
            versionId: '',
            sequencer: randomBytes(8).toString('hex').toUpperCase(),
            metadata: [],
            tags: [],
          },
        },
        eventId: `${Date.now()}.${etag}`,
        opaqueData: '',
      },
    ],
  });
  const changes = async (fileId: string) =>
    (await api.sql<{ type: string }>('SELECT type FROM change_events WHERE file_id = $1 ORDER BY seq', [fileId])).map((c) => c.type);
  const ledgerRows = async (fileId: string) =>
    Number((await api.sql<{ n: string }>('SELECT count(*) AS n FROM processed_storage_events WHERE file_id = $1', [fileId]))[0].n);

  it('runs no SQS consumer: the push route is the only source', () => {
    expect(() => tracker.app.get(StorageEventSource)).toThrow();
  });

  it('moves a pending upload to uploaded on a pushed ObjectCreated event, after the commit; a replay changes nothing', async () => {
    const { file, etag } = await uploadedBytes();
    const body = rgwPush(file, etag);

    // RGW sends no JSON content type: the route reads the body whatever its type.
    const first = await tracker.push(`?access_token=${PUSH_SECRET}`, body);
    expect(first).toEqual({ status: 200, body: { events: 1 } });
    expect((await files.find(file.id))!.status).toBe('uploaded');
    expect(await changes(file.id)).toEqual(['upload.created', 'file.uploaded']);
    expect(await ledgerRows(file.id)).toBe(1);

    // RGW's persistent topic pushes again after a lost answer: a ledger duplicate.
    const replay = await tracker.push(`?access_token=${PUSH_SECRET}`, body, { 'content-type': 'application/json' });
    expect(replay.status).toBe(200);
    expect(await changes(file.id)).toEqual(['upload.created', 'file.uploaded']);
    expect(await ledgerRows(file.id)).toBe(1);
  });

  it('accepts the previous secret during a rotation and the s3: prefixed event names of older RGW', async () => {
    const { file, etag } = await uploadedBytes();
    const res = await tracker.push(`?access_token=${PREVIOUS_PUSH_SECRET}`, rgwPush(file, etag, 's3:ObjectCreated:Put'));
    expect(res.status).toBe(200);
    expect((await files.find(file.id))!.status).toBe('uploaded');
  });

  it.each([
    ['without a secret', ''],
    ['with a wrong secret', '?access_token=not-the-secret-0123456789abcdefghijkl'],
    ['with the secret in another parameter', `?secret=${PUSH_SECRET}`],
  ])('answers 401 to a push %s and records nothing', async (_, query) => {
    const { file, etag } = await uploadedBytes();

    const res = await tracker.push(query, rgwPush(file, etag));

    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
    expect((await files.find(file.id))!.status).toBe('pending');
    expect(await changes(file.id)).toEqual(['upload.created']);
    expect(await ledgerRows(file.id)).toBe(0);
  });

  it('answers 400 to a body that is not an S3 event document, recording nothing', async () => {
    const { file } = await uploadedBytes();
    expect((await tracker.push(`?access_token=${PUSH_SECRET}`, 'not json')).status).toBe(400);
    expect((await tracker.push(`?access_token=${PUSH_SECRET}`, { hello: 'world' }, { 'content-type': 'application/json' })).status).toBe(400);
    expect(await ledgerRows(file.id)).toBe(0);
  });
});
