import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createRedis, JobQueue } from '@app/queue';
import { makeTestVideo, testPresigner } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

/**
 * Issue #4: the optional 720p rendition (VIDEO_TRANSCODE), reprocessing one file or every file
 * missing a variant (POST /v1/admin/reprocess), and failed jobs inspected and retried
 * (GET /v1/admin/jobs, POST /v1/admin/jobs/{queue}/{id}/retry).
 */
describe('reprocessing, renditions and failed jobs (media-processor)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let admin: RawClient;
  let tenantId: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'reprocess-e2e-'));

  beforeAll(async () => {
    stack = await startStack({ env: { VIDEO_TRANSCODE: 'true' } });
    const tenant = await createTenant(stack, { name: 'reprocess', allowedTypes: ['image/*', 'video/*'] });
    tenantId = tenant.id;
    client = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' });
    admin = new RawClient(stack.service('upload-api').url, { authorization: `Bearer ${stack.env.ADMIN_TOKEN}` });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // The upload view answers in every status; the file view only once the bytes are stored.
  const status = async (id: string) => (await client.call('GET', `/v1/uploads/${id}`)).body.status as string;
  const readyWith = (id: string, variants: string[], timeoutMs = 60_000) =>
    until(
      `${id} ready with ${variants.join(', ')}`,
      async () => {
        const { status: code, body } = await client.call('GET', `/v1/files/${id}`);
        if (code !== 200 || body.status !== 'ready') return null;
        const names = (body.variants as Array<{ name: string }>).map((v) => v.name);
        return variants.every((v) => names.includes(v)) ? body : null;
      },
      timeoutMs,
      200,
    );
  const changeTypes = async (id: string) =>
    (await stack.sql<{ type: string; payload: Record<string, unknown> }>('SELECT type, payload FROM change_events WHERE file_id = $1 ORDER BY seq', [id])).map(
      (c) => c.type,
    );
  const storedVariants = async (id: string) => {
    const { s3 } = testPresigner(stack.storage);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.storage.S3_BUCKET, Prefix: `variants/${tenantId}/${id}/` }));
    s3.destroy();
    // Variant names, from content-addressed keys (<name>.<digest>).
    return (listed.Contents ?? [])
      .map((o) =>
        o
          .Key!.split('/')
          .pop()!
          .replace(/\.[0-9a-f]{16}$/, ''),
      )
      .sort();
  };

  it('a 1080p video gets its poster, then an H.264/AAC rendition of 720 lines as a later variant', async () => {
    const clip = makeTestVideo(path.join(dir, 'hd.mp4'), { seconds: 2, width: 1920, height: 1080, audio: true, fast: true });
    const id = await client.upload(readFileSync(clip), 'hd.mp4', 'video/mp4');
    const file = await readyWith(id, ['poster', 'video720'], 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${stack.service('media-processor').output.slice(-15).join('\n')}`);
    });
    expect(file.variants).toContainEqual({
      name: 'video720',
      contentType: 'video/mp4',
      size: expect.any(Number),
      width: 1280,
      height: 720,
      durationMs: expect.any(Number),
    });
    const res = await fetch(`${stack.service('upload-api').url}/v1/files/${id}/content?variant=video720`, { headers: client.auth, redirect: 'manual' });
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', res.headers.get('location')!], { encoding: 'utf8' }),
    ) as { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }> };
    expect(probe.streams.map((s) => [s.codec_type, s.codec_name])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
    ]);
    // Ready first, the rendition after: clients learn of it from its own change.
    expect(await changeTypes(id)).toEqual(['upload.created', 'file.uploaded', 'file.processing', 'file.ready', 'file.variant_added']);
    expect(await storedVariants(id)).toEqual(['poster', 'video720']);
  });

  it('reprocessing every file missing a variant restores a lost thumb, and only there', async () => {
    const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#468' } })
      .png()
      .toBuffer();
    const damaged = await client.upload(png, 'damaged.png', 'image/png');
    const intact = await client.upload(await sharp(png).flop().toBuffer(), 'intact.png', 'image/png');
    await readyWith(damaged, ['thumb', 'preview']);
    await readyWith(intact, ['thumb', 'preview']);
    // Lose the thumb of one file, row and object, as a failed migration or an operator might.
    const [thumb] = await stack.sql<{ storage_key: string }>(`DELETE FROM variants WHERE file_id = $1 AND name = 'thumb' RETURNING storage_key`, [damaged]);
    const { s3 } = testPresigner(stack.storage);
    await s3.send(new DeleteObjectCommand({ Bucket: stack.storage.S3_BUCKET, Key: thumb.storage_key }));
    s3.destroy();

    const accepted = await admin.call('POST', '/v1/admin/reprocess', { variant: 'thumb', tenantId });
    expect(accepted).toMatchObject({ status: 202, body: { jobId: expect.any(String), queue: 'media-verify' } });
    await readyWith(damaged, ['thumb', 'preview']);
    expect(await storedVariants(damaged)).toEqual(['preview', 'thumb']);
    expect((await changeTypes(damaged)).slice(-2)).toEqual(['file.processing', 'file.ready']);
    // The intact file was left alone: no second round of changes.
    expect((await changeTypes(intact)).filter((t) => t === 'file.processing')).toHaveLength(1);
  });

  it('reprocessing one ready file gives the same variants under the same keys and no orphans', async () => {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#a52' } })
      .jpeg()
      .toBuffer();
    const id = await client.upload(jpeg, 'again.jpg', 'image/jpeg');
    await readyWith(id, ['thumb', 'preview']);
    const before = await stack.sql<{ name: string; storage_key: string }>('SELECT name, storage_key FROM variants WHERE file_id = $1 ORDER BY name', [id]);

    expect((await admin.call('POST', '/v1/admin/reprocess', { fileId: id })).status).toBe(202);
    await until('back to processing and ready again', async () => (await changeTypes(id)).filter((t) => t === 'file.ready').length === 2 || null, 60_000, 200);
    expect(await status(id)).toBe('ready');
    expect(await stack.sql('SELECT name, storage_key FROM variants WHERE file_id = $1 ORDER BY name', [id])).toEqual(before);
    expect(await storedVariants(id)).toEqual(['preview', 'thumb']);
  });

  it('refuses what cannot be reprocessed with a problem document, changing nothing', async () => {
    const unknown = await admin.call('POST', '/v1/admin/reprocess', { fileId: '6a4c1a52-5b0e-4c1e-9d4e-0b7a3f0c2d11' });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const pending = (await client.call('POST', '/v1/uploads', { filename: 'later.png', size: 10, contentType: 'image/png' })).body.id as string;
    expect(await admin.call('POST', '/v1/admin/reprocess', { fileId: pending })).toMatchObject({ status: 409, body: { code: 'invalid_state' } });
    expect(await status(pending)).toBe('pending');
    expect((await admin.call('POST', '/v1/admin/reprocess', { fileId: pending, variant: 'thumb' })).status).toBe(400);
    expect((await admin.call('POST', '/v1/admin/reprocess', { variant: '../etc' })).status).toBe(400);
    expect((await client.call('POST', '/v1/admin/reprocess', {})).status).toBe(403); // a tenant key is not the admin token
  });

  it('a job that fails for good is listed with its reason, and can be retried', async () => {
    // A payload from a newer producer: refused by the worker, failed without retries.
    const redis = createRedis({ REDIS_URL: stack.env.REDIS_URL, REDIS_CLUSTER: stack.env.REDIS_CLUSTER === 'true' }, 'worker');
    const jobs = new JobQueue(redis, stack.env.QUEUE_PREFIX);
    const fileId = '0f6e0c7e-3c1e-4a8e-9a57-2b8f3c1d4e5f';
    await jobs.enqueue('media.image', { v: 2, fileId } as never, { jobId: `future-${fileId}` });
    await jobs.close();
    redis.disconnect();

    const listed = await until(
      'the failed job is listed',
      async () => {
        const { body } = await admin.call('GET', '/v1/admin/jobs?queue=media-image&state=failed');
        return (body.items as Array<{ id: string; processedAt: string }>).find((j) => j.id === `future-${fileId}`) ?? null;
      },
      20_000,
      200,
    );
    expect(listed).toMatchObject({ queue: 'media-image', name: 'media.image', state: 'failed', attemptsMade: 1, data: { v: 2, fileId } });
    expect((listed as unknown as { failedReason: string }).failedReason).toMatch(/payload version 2/);

    const all = await admin.call('GET', '/v1/admin/jobs');
    expect((all.body.items as Array<{ id: string }>).some((j) => j.id === `future-${fileId}`)).toBe(true);

    expect(await admin.call('POST', `/v1/admin/jobs/media-image/future-${fileId}/retry`, {})).toMatchObject({ status: 202 });
    await until(
      'retried and failed again',
      async () => {
        const { body } = await admin.call('GET', '/v1/admin/jobs?queue=media-image');
        const job = (body.items as Array<{ id: string; processedAt: string; createdAt: string; attemptsMade: number }>).find(
          (j) => j.id === `future-${fileId}`,
        );
        return job && job.attemptsMade === 1 && job.processedAt !== listed.processedAt ? job : null;
      },
      20_000,
      200,
    );
    expect(await admin.call('GET', '/v1/admin/jobs?queue=nope')).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect((await admin.call('GET', '/v1/admin/jobs?state=exploded')).status).toBe(400);
    expect(await admin.call('POST', `/v1/admin/jobs/media-image/missing/retry`, {})).toMatchObject({ status: 404 });
  });
});
