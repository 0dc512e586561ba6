import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { MediaEnv } from '@app/config';
import { FileLifecycle } from '@app/lifecycle';
import { extractPoster, imageDimensions, MediaError, probeVideo } from '@app/media';
import { JobPayloads, JobQueue, OnJob } from '@app/queue';
import { FastPresigner } from '@app/storage';
import { VariantStore } from './variant-store';

const POSTER_EDGE = 1280;

/**
 * Videos: ffprobe for duration, dimensions and codecs, and a `poster` frame, with ffmpeg reading
 * a presigned GET URL (it fetches only the ranges it needs, never the whole file). A video ffmpeg
 * cannot read is `rejected`; one that outlasts FFMPEG_TIMEOUT_SECONDS is `failed`: neither retried.
 */
@Injectable()
export class VideoService {
  private readonly logger = new Logger(VideoService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaEnv,
    private readonly lifecycle: FileLifecycle,
    private readonly variants: VariantStore,
    private readonly presigner: FastPresigner,
    private readonly jobs: JobQueue,
  ) {}

  @OnJob('media.video')
  async process(payload: JobPayloads['media.video']): Promise<{ outcome: string }> {
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'processing');
    if (!file) return { outcome: skipped };
    const timeout = this.config.FFMPEG_TIMEOUT_SECONDS;
    const source = (await this.presigner.getObject(file.storageKey, { expiresInSeconds: Math.max(900, timeout * 2) })).url;
    try {
      const info = await probeVideo(source, timeout);
      // A frame one second in (or halfway through a shorter clip) skips fade-ins and black leaders.
      const poster = await extractPoster(source, Math.min(1, info.durationMs / 2000), POSTER_EDGE, timeout);
      const posterMeta = await imageDimensions(poster);
      const key = await this.variants.write({ tenantId: file.tenantId, fileId: file.id }, 'poster', poster, 'image/jpeg');
      await this.variants.record(file.id, {
        name: 'poster',
        storageKey: key,
        contentType: 'image/jpeg',
        size: poster.length,
        width: posterMeta.width,
        height: posterMeta.height,
      });
      const mediaInfo = { videoCodec: info.videoCodec, audioCodec: info.audioCodec, container: info.container };
      await this.lifecycle.markReady(
        file.id,
        { width: info.width, height: info.height, durationMs: info.durationMs, mediaInfo },
        { width: info.width, height: info.height, durationMs: info.durationMs, variants: ['poster'] },
      );
      this.logger.log({ fileId: file.id, durationMs: info.durationMs, codec: info.videoCodec }, 'video processed');
      // The rendition follows on its own queue: the file is usable (poster, original) meanwhile.
      if (this.config.VIDEO_TRANSCODE)
        await this.jobs.enqueue('media.transcode', { v: 1, fileId: file.id }, { jobId: `media.transcode-${file.id}`, rerun: true });
      return { outcome: 'ready' };
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      const reason = `${error.code}: ${error.message}`;
      if (error.code === 'timeout') await this.lifecycle.fail(file, reason);
      else await this.lifecycle.rejectContent(file, reason);
      const to = error.code === 'timeout' ? 'failed' : 'rejected';
      return { outcome: to };
    }
  }
}
