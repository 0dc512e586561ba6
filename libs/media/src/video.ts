import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { posterArgs, probeArgs, renditionArgs, runFfOrThrow } from './ffmpeg';
import { MediaError } from './image';

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
 * ffprobe on a URL: ffmpeg reads only what it needs, never a full download. A probe past its time
 * limit is killed (SIGKILL), not left reading and decoding after the file has failed (issue #11).
 */
export async function probeVideo(url: string, timeoutSeconds: number): Promise<VideoInfo> {
  const stdout = await runFfOrThrow('ffprobe', probeArgs(url), { timeoutSeconds, maxStdoutBytes: PROBE_MAX_OUTPUT_BYTES });
  return parseProbeOutput(stdout);
}

/** ffprobe's `-print_format json -show_format -show_streams` answer as a VideoInfo; `undecodable` when it holds no video. */
export function parseProbeOutput(json: string): VideoInfo {
  let data: ProbeOutput;
  try {
    data = JSON.parse(json) as ProbeOutput;
  } catch (error) {
    throw new MediaError('undecodable', `ffprobe: ${(error as Error).message.split('\n')[0]}`);
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
 * what a 10-second one does. Past `timeoutSeconds` ffmpeg is killed; the temporary folder is
 * always removed.
 */
export async function extractPoster(url: string, atSeconds: number, maxEdge: number, timeoutSeconds: number): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'poster-'));
  const out = path.join(dir, 'poster.jpg');
  try {
    await runFfOrThrow('ffmpeg', posterArgs(url, atSeconds, maxEdge, out), { timeoutSeconds });
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
 * Reads the source URL as ffmpeg streams it; past `timeoutSeconds` ffmpeg is killed. The caller
 * owns `out`. Failures are MediaErrors: `timeout` (killed) or `undecodable`.
 */
export async function transcodeTo720(url: string, out: string, timeoutSeconds: number): Promise<void> {
  await runFfOrThrow('ffmpeg', renditionArgs(url, out, RENDITION_LINES), { timeoutSeconds });
}
