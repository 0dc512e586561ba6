import ffmpeg from 'fluent-ffmpeg';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MediaError } from './image';

/** Containers ffmpeg reads here; verification routes these to the video queue. */
export const VIDEO_TYPES = new Set(['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska', 'video/x-msvideo', 'video/mpeg']);

export interface VideoInfo {
  durationMs: number;
  width: number;
  height: number;
  videoCodec: string;
  audioCodec: string | null;
  container: string;
}

/** ffprobe (through fluent-ffmpeg) on a URL: ffmpeg reads only what it needs, never a full download. */
export function probeVideo(url: string, timeoutSeconds: number): Promise<VideoInfo> {
  return new Promise<VideoInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MediaError('timeout', `ffprobe took longer than ${timeoutSeconds} s`)), timeoutSeconds * 1000);
    ffmpeg.ffprobe(url, (error, data) => {
      clearTimeout(timer);
      if (error) return reject(new MediaError('undecodable', `ffprobe: ${(error as Error).message.split('\n')[0]}`));
      const video = data.streams.find((s) => s.codec_type === 'video');
      const audio = data.streams.find((s) => s.codec_type === 'audio');
      if (!video?.width || !video.height) return reject(new MediaError('undecodable', 'no video stream'));
      // Phones record sideways with a rotation tag: report the displayed dimensions.
      const sideways = Math.abs(Number((video as { rotation?: number | string }).rotation ?? 0)) % 180 === 90;
      resolve({
        durationMs: Math.round(Number(data.format.duration ?? video.duration ?? 0) * 1000),
        width: sideways ? video.height : video.width,
        height: sideways ? video.width : video.height,
        videoCodec: video.codec_name ?? 'unknown',
        audioCodec: audio?.codec_name ?? null,
        container: data.format.format_name ?? 'unknown',
      });
    });
  });
}

/**
 * One JPEG frame at `atSeconds`, seeking before the input (`-ss` as an input option), so ffmpeg
 * jumps to the nearest keyframe instead of decoding from the start: a 10-minute video costs about
 * what a 10-second one does. fluent-ffmpeg's `timeout` kills ffmpeg; the temporary folder is
 * always removed.
 */
export async function extractPoster(url: string, atSeconds: number, maxEdge: number, timeoutSeconds: number): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'poster-'));
  const out = path.join(dir, 'poster.jpg');
  try {
    await run(
      ffmpeg(url, { timeout: timeoutSeconds })
        .inputOptions(['-ss', atSeconds.toFixed(3)])
        .outputOptions(['-frames:v', '1', '-vf', `scale='min(${maxEdge},iw)':-2`, '-q:v', '3'])
        .output(out),
      timeoutSeconds,
    );
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The largest rendition `transcodeTo720` makes: the shorter edge at most this many pixels. */
export const RENDITION_LINES = 720;

/**
 * An H.264/AAC MP4 of at most 720 lines (the shorter edge, so portrait video stays portrait),
 * never upscaled, with the index first (`+faststart`) so players start before the download ends.
 * Reads the source URL as ffmpeg streams it; `timeout` kills ffmpeg. The caller owns `out`.
 */
export function transcodeTo720(url: string, out: string, timeoutSeconds: number): Promise<void> {
  const fit = `scale='if(gte(iw,ih),-2,min(${RENDITION_LINES},iw))':'if(gte(iw,ih),min(${RENDITION_LINES},ih),-2)'`;
  return run(
    ffmpeg(url, { timeout: timeoutSeconds })
      .videoCodec('libx264')
      .audioCodec('aac')
      .outputOptions(['-map', '0:v:0', '-map', '0:a:0?', '-vf', fit, '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'])
      .outputOptions(['-profile:v', 'high', '-b:a', '128k', '-ac', '2', '-movflags', '+faststart', '-f', 'mp4'])
      .output(out),
    timeoutSeconds,
  );
}

/** Runs an ffmpeg command; its failures become MediaErrors: `timeout` (killed) or `undecodable`. */
function run(command: ffmpeg.FfmpegCommand, timeoutSeconds: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    command
      .on('end', () => resolve())
      .on('error', (e: Error) =>
        reject(
          /timeout/i.test(e.message)
            ? new MediaError('timeout', `ffmpeg took longer than ${timeoutSeconds} s`)
            : new MediaError('undecodable', `ffmpeg: ${e.message.split('\n')[0]}`),
        ),
      )
      .run();
  });
}
