import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { mediaEnv } from '@app/config';
import type { FileRecord, VariantRepository } from '@app/database';
import type { FileLifecycle } from '@app/lifecycle';
import { extractPoster, imageDimensions, MediaError, probeVideo } from '@app/media';
import type { VideoInfo } from '@app/media';
import type { JobQueue } from '@app/queue';
import { KeyLayout } from '@app/storage';
import type { FastPresigner, ObjectStorage } from '@app/storage';
import { aFile, strictMock, callsInOrder } from '@app/testing';
import { VideoService } from './video.service';
import { IMMUTABLE, VariantStore } from './variant-store';

// swc rewrites `@app/media` to this relative path in the compiled service (jest.config.js), and jest
// matches mocks by resolved file: mocking the alias would leave the service on the real ffmpeg.
jest.mock('../../../libs/media/src', () => ({
  ...jest.requireActual('../../../libs/media/src'),
  probeVideo: jest.fn(),
  extractPoster: jest.fn(),
  imageDimensions: jest.fn(),
}));

Logger.overrideLogger(['error']);

const URL = 'https://s3.test/uploads/video?X-Amz-Signature=abc';
const TIMEOUT = 60;
const keys = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });
const poster = Buffer.from('a jpeg frame');
const info: VideoInfo = { durationMs: 12_500, width: 1920, height: 1080, videoCodec: 'h264', audioCodec: 'aac', container: 'mov,mp4,m4a,3gp,3g2,mj2' };

function setup(
  opts: { file?: Partial<FileRecord>; transcode?: boolean; timeout?: number; probe?: () => Promise<VideoInfo>; poster?: () => Promise<Buffer> } = {},
) {
  const file = aFile({ status: 'processing', contentType: 'video/mp4', detectedType: 'video/mp4', ...opts.file });
  const config = { ...mediaEnv.parse({}), FFMPEG_TIMEOUT_SECONDS: opts.timeout ?? TIMEOUT, VIDEO_TRANSCODE: opts.transcode ?? false };
  const media = {
    probeVideo: jest
      .mocked(probeVideo)
      .mockReset()
      .mockImplementation(opts.probe ?? (async () => info)),
    extractPoster: jest
      .mocked(extractPoster)
      .mockReset()
      .mockImplementation(opts.poster ?? (async () => poster)),
    imageDimensions: jest.mocked(imageDimensions).mockReset().mockResolvedValue({ width: 1280, height: 720 }),
  };
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reread: async () => (file.status === 'processing' ? { file } : { skipped: `skipped:${file.status}` }),
    markReady: async () => ({ ...file, status: 'ready' }),
    rejectContent: async (f) => ({ ...f, status: 'rejected' }),
    fail: async (f) => ({ ...f, status: 'failed' }),
  });
  const variants = strictMock<VariantRepository>('variants', { upsert: async () => undefined, keyOf: async () => null });
  const storage = strictMock<ObjectStorage>('storage', { put: async () => undefined });
  const presigner = strictMock<FastPresigner>('presigner', { getObject: async () => ({ method: 'GET', url: URL, headers: {}, expiresAt: new Date(0) }) });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  // A mock has only the public members: the classes' private fields make the casts necessary.
  const service = new VideoService(config, lifecycle, new VariantStore(storage, keys, variants), presigner, jobs);
  const calls = () => callsInOrder({ lifecycle, variants, storage, presigner, jobs, media });
  const posterKey = `variants/${file.tenantId}/${file.id}/poster.${createHash('sha256').update(poster).digest('hex').slice(0, 16)}`;
  /** Reading through a presigned URL (valid for the whole run), then a frame one second in. */
  const probing = [
    ['lifecycle.reread', file.id, 'processing'],
    ['presigner.getObject', file.storageKey, { expiresInSeconds: 900 }],
    ['media.probeVideo', URL, TIMEOUT],
  ];
  const processed = [
    ...probing,
    ['media.extractPoster', URL, 1, 1280, TIMEOUT],
    ['media.imageDimensions', poster],
    ['storage.put', posterKey, poster, 'image/jpeg', { cacheControl: IMMUTABLE }],
    ['variants.keyOf', file.id, 'poster'],
    ['variants.upsert', file.id, { name: 'poster', storageKey: posterKey, contentType: 'image/jpeg', size: poster.length, width: 1280, height: 720 }],
    [
      'lifecycle.markReady',
      file.id,
      { width: 1920, height: 1080, durationMs: 12_500, mediaInfo: { videoCodec: 'h264', audioCodec: 'aac', container: info.container } },
      { width: 1920, height: 1080, durationMs: 12_500, variants: ['poster'] },
    ],
  ];
  return { file, service, calls, probing, processed };
}

const fails = (error: Error) => async (): Promise<never> => {
  throw error;
};

describe('VideoService', () => {
  it.each(['uploaded', 'ready', 'failed', 'rejected', 'deleted'] as const)('skips a file that is %s without running ffmpeg', async (status) => {
    const { file, service, calls } = setup({ file: { status } });
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: `skipped:${status}` });
    expect(calls()).toEqual([['lifecycle.reread', file.id, 'processing']]);
  });

  it('uploads the poster, records it, and marks the video ready with its duration, dimensions and codecs', async () => {
    const { file, service, calls, processed } = setup();
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toEqual(processed);
  });

  it('enqueues the transcode after the file is ready when VIDEO_TRANSCODE is on', async () => {
    const { file, service, calls, processed } = setup({ transcode: true });
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toEqual([
      ...processed,
      ['jobs.enqueue', 'media.transcode', { v: 1, fileId: file.id }, { jobId: `media.transcode-${file.id}`, rerun: true }],
    ]);
  });

  it('takes the poster halfway through a clip shorter than two seconds', async () => {
    const { file, service, calls } = setup({ probe: async () => ({ ...info, durationMs: 1_200 }) });
    await service.process({ v: 1, fileId: file.id });
    expect(calls()).toContainEqual(['media.extractPoster', URL, 0.6, 1280, TIMEOUT]);
  });

  it('presigns the URL for twice the ffmpeg timeout when that is longer than fifteen minutes', async () => {
    const { file, service, calls } = setup({ timeout: 600 });
    await service.process({ v: 1, fileId: file.id });
    expect(calls()).toContainEqual(['presigner.getObject', file.storageKey, { expiresInSeconds: 1200 }]);
    expect(calls()).toContainEqual(['media.probeVideo', URL, 600]);
  });

  it('fails a video whose probe outlasts the timeout, keeping it for a reprocess, and writes nothing', async () => {
    const { file, service, calls, probing } = setup({ probe: fails(new MediaError('timeout', 'ffprobe took longer than 60 s')) });
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'failed' });
    expect(calls()).toEqual([...probing, ['lifecycle.fail', file, 'timeout: ffprobe took longer than 60 s']]);
  });

  it('fails a video whose poster extraction outlasts the timeout', async () => {
    const { file, service, calls, probing } = setup({ poster: fails(new MediaError('timeout', 'ffmpeg took longer than 60 s')) });
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'failed' });
    expect(calls()).toEqual([...probing, ['media.extractPoster', URL, 1, 1280, TIMEOUT], ['lifecycle.fail', file, 'timeout: ffmpeg took longer than 60 s']]);
  });

  it('rejects a video ffmpeg cannot read, with the code and message as the reason, and writes nothing', async () => {
    const { file, service, calls, probing } = setup({ probe: fails(new MediaError('undecodable', 'no video stream')) });
    await expect(service.process({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([...probing, ['lifecycle.rejectContent', file, 'undecodable: no video stream']]);
  });

  it('lets any other error through so the job is retried, leaving the file processing', async () => {
    const hiccup = new Error('socket hang up');
    const { file, service, calls, probing } = setup({ probe: fails(hiccup) });
    await expect(service.process({ v: 1, fileId: file.id })).rejects.toBe(hiccup);
    expect(calls()).toEqual(probing);
  });
});
