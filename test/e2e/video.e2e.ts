import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { makeTestVideo } from '@app/testing';
import { createTenant, E2eStack, startStack, until } from './stack';
import { RawClient } from './upload-client';

describe('video (media-processor, media-video queue)', () => {
  let stack: E2eStack;
  let client: RawClient;
  let auth: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'video-e2e-'));

  beforeAll(async () => {
    stack = await startStack();
    const tenant = await createTenant(stack, { name: 'video', allowedTypes: ['video/*'] });
    auth = { authorization: `Bearer ${tenant.apiKey}`, 'x-owner-id': 'alice' };
    client = new RawClient(stack.service('upload-api').url, auth);
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an MP4 becomes ready with a poster, its duration, dimensions and codecs', async () => {
    const clip = path.join(dir, 'clip.mp4');
    makeTestVideo(clip, { seconds: 3, width: 320, height: 240 });
    const id = await client.upload(readFileSync(clip), 'clip.mp4', 'video/mp4');
    const status = await until(
      'processed',
      async () => {
        const { body } = await client.call('GET', `/v1/uploads/${id}`);
        return ['ready', 'rejected', 'failed'].includes(body.status) ? (body.status as string) : null;
      },
      60_000,
      200,
    );
    expect(status).toBe('ready');
    const file = (await client.call('GET', `/v1/files/${id}`)).body;
    expect(file).toMatchObject({ detectedType: 'video/mp4', width: 320, height: 240 });
    expect(file.variants).toEqual([{ name: 'poster', contentType: 'image/jpeg', size: expect.any(Number), width: 320, height: 240 }]);
    const [row] = await stack.sql<{ duration_ms: number; media_info: { videoCodec: string } }>('SELECT duration_ms, media_info FROM files WHERE id = $1', [id]);
    expect(Math.abs(row.duration_ms - 3_000)).toBeLessThan(150);
    expect(row.media_info.videoCodec).toBe('h264');
    const poster = await fetch(`${stack.service('upload-api').url}/v1/files/${id}/content?variant=poster`, { headers: auth });
    expect((await sharp(Buffer.from(await poster.arrayBuffer())).metadata()).format).toBe('jpeg');
  });
});
