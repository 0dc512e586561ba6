import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { extractPoster, MediaError, probeVideo } from '@app/media';
import { makeTestVideo } from '@app/testing';

/** The video adapter against real ffmpeg/ffprobe, on clips ffmpeg makes itself. */
describe('video adapter (ffprobe + ffmpeg)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'video-int-'));
  const clip = path.join(dir, 'clip.mp4');

  beforeAll(() => {
    makeTestVideo(clip, { seconds: 4, width: 320, height: 240, audio: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('probes duration, dimensions and codecs', async () => {
    const info = await probeVideo(clip, 30);
    expect(info).toMatchObject({ width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    expect(Math.abs(info.durationMs - 4_000)).toBeLessThan(150);
  });

  it('extracts a JPEG poster and leaves no temporary files behind', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const poster = await extractPoster(clip, 1, 1280, 30);
    const meta = await sharp(poster).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
    const after = readdirSync(tmpdir()).filter((f) => f.startsWith('poster-') && !before.has(f));
    expect(after).toEqual([]);
  });

  it('refuses what is not a video', async () => {
    const notVideo = path.join(dir, 'fake.mp4');
    writeFileSync(notVideo, 'not a video at all');
    await expect(probeVideo(notVideo, 30)).rejects.toBeInstanceOf(MediaError);
    await expect(extractPoster(notVideo, 0, 640, 30)).rejects.toMatchObject({ code: 'undecodable' });
  });
});
