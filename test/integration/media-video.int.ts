import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { extractPoster, MediaError, probeVideo, transcodeTo720 } from '@app/media';
import { makeTestVideo, SilentOrigin } from '@app/testing';

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
    await expect(transcodeTo720(notVideo, path.join(dir, 'fake-720p.mp4'), 30)).rejects.toMatchObject({
      code: 'undecodable',
      message: expect.stringMatching(/^ffmpeg: ffmpeg exited with code \d+: .*Invalid data found when processing input/),
    });
  });

  it('transcodes to an H.264/AAC MP4 of at most 720 lines, never upscaled, portrait staying portrait', async () => {
    const small = path.join(dir, 'small-720p.mp4');
    await transcodeTo720(clip, small, 60);
    expect(await probeVideo(small, 30)).toMatchObject({ width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    const portrait = makeTestVideo(path.join(dir, 'portrait.mp4'), { seconds: 1, width: 800, height: 1000, fast: true });
    const out = path.join(dir, 'portrait-720p.mp4');
    await transcodeTo720(portrait, out, 60);
    expect(await probeVideo(out, 30)).toMatchObject({ width: 720, height: 900, videoCodec: 'h264', audioCodec: null });
  });
});

/**
 * ffmpeg past its time limit is killed (SIGKILL), not only stopped being waited for, and fails
 * with `timeout`: a source that never answers holds ffmpeg for as long as it lives.
 */
describe('video adapter time limit (ffmpeg)', () => {
  const origin = new SilentOrigin();
  const dir = mkdtempSync(path.join(tmpdir(), 'video-int-timeout-'));
  beforeAll(() => origin.start());
  afterAll(async () => {
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills ffmpeg extracting a poster when it outlasts its time limit, failing with `timeout`', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const started = Date.now();
    await expect(extractPoster(origin.url('/video.mp4'), 1, 1280, 1)).rejects.toEqual(new MediaError('timeout', 'ffmpeg took longer than 1 s'));
    expect(Date.now() - started).toBeLessThan(3_000);
    // A process left running would hold its connection open.
    expect(await origin.connectionsClosed(1)).toEqual({ opened: 1, closed: 1 });
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('poster-') && !before.has(f))).toEqual([]);
  });

  it('kills ffmpeg transcoding when it outlasts its time limit, failing with `timeout`', async () => {
    const out = path.join(dir, '720p.mp4');
    const started = Date.now();
    await expect(transcodeTo720(origin.url('/video.mp4'), out, 1)).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await origin.connectionsClosed(2)).toEqual({ opened: 2, closed: 2 });
    expect(existsSync(out)).toBe(false);
  });
});
