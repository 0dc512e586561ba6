import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APP_CONFIG } from '@app/config';
import type { MediaEnv } from '@app/config';
import { VariantRepository } from '@app/database';
import { FileLifecycle } from '@app/lifecycle';
import { MediaError, probeVideo, transcodeTo720 } from '@app/media';
import { JobPayloads, OnJob, PermanentJobFailure } from '@app/queue';
import { FastPresigner, ObjectStorage } from '@app/storage';
import { VariantStore } from './variant-store';

export const RENDITION = 'video720';

/**
 * The optional H.264/AAC rendition of a ready video (VIDEO_TRANSCODE), made after `file.ready` on
 * its own queue: minutes of CPU that must not hold the file back or share workers with posters.
 * ffmpeg reads the source through a presigned URL and writes a temporary file (MP4 needs to seek
 * back for `+faststart`), which is always removed. Storage hiccups are retried; a video ffmpeg
 * cannot transcode, or one that outlasts TRANSCODE_TIMEOUT_SECONDS, fails the job for good with
 * its reason (the file stays ready; the failed job is listed by GET /v1/admin/jobs).
 */
@Injectable()
export class TranscodeService {
  private readonly logger = new Logger(TranscodeService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: MediaEnv,
    private readonly lifecycle: FileLifecycle,
    private readonly variants: VariantRepository,
    private readonly storage: ObjectStorage,
    private readonly presigner: FastPresigner,
    private readonly store: VariantStore,
  ) {}

  @OnJob('media.transcode')
  async transcode(payload: JobPayloads['media.transcode']): Promise<{ outcome: string; size?: number }> {
    // Deleted meanwhile, or being reprocessed (which enqueues a fresh transcode when it is ready).
    const { file, skipped } = await this.lifecycle.reread(payload.fileId, 'ready');
    if (!file) return { outcome: skipped };
    const timeout = this.config.TRANSCODE_TIMEOUT_SECONDS;
    const source = (await this.presigner.getObject(file.storageKey, { expiresInSeconds: Math.max(900, timeout + 300) })).url;
    const dir = await mkdtemp(path.join(tmpdir(), 'transcode-'));
    try {
      const out = path.join(dir, `${RENDITION}.mp4`);
      try {
        await transcodeTo720(source, out, timeout);
      } catch (error) {
        if (error instanceof MediaError) throw new PermanentJobFailure(`${error.code}: ${error.message}`);
        throw error;
      }
      const info = await probeVideo(out, 60);
      const { key, size } = await this.store.writeFile({ tenantId: file.tenantId, fileId: file.id }, RENDITION, out, 'video/mp4');
      const previous = await this.variants.keyOf(file.id, RENDITION);
      const recorded = await this.variants.addToReadyFile(file.id, {
        name: RENDITION,
        storageKey: key,
        contentType: 'video/mp4',
        size,
        width: info.width,
        height: info.height,
        durationMs: info.durationMs,
      });
      // Deleted while transcoding: its variants were removed with it, so this object must go too.
      if (!recorded) {
        const { file: deleted, skipped } = await this.lifecycle.reread(file.id, 'deleted');
        if (deleted || skipped === 'skipped:missing') await this.storage.delete(key);
        return { outcome: skipped ?? 'skipped:deleted' };
      }
      await this.store.release(previous, key);
      this.logger.log({ fileId: file.id, size, width: info.width, height: info.height }, 'video transcoded');
      return { outcome: 'added', size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
