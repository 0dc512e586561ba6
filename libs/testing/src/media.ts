import { execFileSync } from 'node:child_process';

export interface TestVideo {
  seconds: number;
  width: number;
  height: number;
  /** A sine tone as an AAC track. */
  audio?: boolean;
  /** Fast, larger files (for long videos). */
  fast?: boolean;
}

/** An H.264 MP4 made by ffmpeg from its test pattern (moov atom first, as uploads usually are). */
export function makeTestVideo(file: string, v: TestVideo): string {
  const input = ['-f', 'lavfi', '-i', `testsrc2=size=${v.width}x${v.height}:rate=25:duration=${v.seconds}`];
  const audio = v.audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${v.seconds}`, '-shortest', '-c:a', 'aac'] : [];
  const speed = v.fast ? ['-preset', 'ultrafast', '-g', '250'] : [];
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...input, ...audio, '-c:v', 'libx264', ...speed, '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
  return file;
}
