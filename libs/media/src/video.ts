import ffmpeg from 'fluent-ffmpeg';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MediaError } from './image';

const execFileAsync = promisify(execFile);

/** Containers ffmpeg reads here; verification routes these to the video queue. */
// Under the names detection gives them (file-type: video/matroska, video/vnd.avi), and the older
// names clients declare (video/x-matroska, video/x-msvideo).
export const VIDEO_TYPES = new Set([
  'video/mp4',
  'video/quicktime',
  'video/webm',
  'video/matroska',
  'video/x-matroska',
  'video/vnd.avi',
  'video/x-msvideo',
  'video/mpeg',
]);

export interface VideoInfo {
  durationMs: number;
  width: number;
  height: number;
  videoCodec: string;
  audioCodec: string | null;
  container: string;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: Array<{ rotation?: number }>;
}
interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string };
}

/** ffprobe's JSON answer can be large for files with many streams or chapters; more is refused. */
const PROBE_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * ffprobe on a URL: ffmpeg reads only what it needs, never a full download. Run directly rather
 * than through fluent-ffmpeg, whose ffprobe offers no way to stop the process: a probe past its
 * time limit is killed (SIGKILL), not left reading and decoding after the file has failed (issue #11).
 */
export async function probeVideo(url: string, timeoutSeconds: number): Promise<VideoInfo> {
  let data: ProbeOutput;
  try {
    const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', url], {
      timeout: timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
      maxBuffer: PROBE_MAX_OUTPUT_BYTES,
      windowsHide: true,
    });
    data = JSON.parse(stdout) as ProbeOutput;
  } catch (error) {
    const failure = error as { killed?: boolean; signal?: string; stderr?: string; message: string };
    if (failure.killed && failure.signal === 'SIGKILL') throw new MediaError('timeout', `ffprobe took longer than ${timeoutSeconds} s`);
    const detail = (failure.stderr?.trim() || failure.message).split('\n')[0];
    throw new MediaError('undecodable', `ffprobe: ${detail}`);
  }
  const streams = data.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video?.width || !video.height) throw new MediaError('undecodable', 'no video stream');
  // Phones record sideways with a rotation (display matrix, or the older `rotate` tag): report the displayed dimensions.
  const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0;
  const sideways = Math.abs(Number(rotation)) % 180 === 90;
  return {
    durationMs: Math.round(Number(data.format?.duration ?? video.duration ?? 0) * 1000),
    width: sideways ? video.height : video.width,
    height: sideways ? video.width : video.height,
    videoCodec: video.codec_name ?? 'unknown',
    audioCodec: audio?.codec_name ?? null,
    container: data.format?.format_name ?? 'unknown',
  };
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
