import { extractFfmpegError, ffFailure, FfUnavailableError, posterArgs, probeArgs, renditionArgs, STDERR_TAIL_BYTES, TailBuffer } from './ffmpeg';
import type { FfRun } from './ffmpeg';
import { MediaError } from './image';
import { parseProbeOutput } from './video';

const URL = 'https://storage.example/bucket/key?X-Amz-Signature=abc&x=1;rm -rf /';

function run(overrides: Partial<FfRun>): FfRun {
  return { tool: 'ffmpeg', code: 0, signal: null, timedOut: false, stdoutOverflow: false, spawnError: null, stdout: '', stderr: '', ...overrides };
}

describe('ffmpeg adapter: arguments', () => {
  it('probes format and streams as JSON, the URL one argument', () => {
    expect(probeArgs(URL)).toEqual(['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', URL]);
  });

  it('seeks before the input for a poster (an input option), one frame, scaled down only', () => {
    const args = posterArgs(URL, 1, 1280, '/tmp/p/poster.jpg');
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    expect(args.slice(args.indexOf('-ss'), args.indexOf('-i') + 2)).toEqual(['-ss', '1.000', '-i', URL]);
    expect(args).toEqual(expect.arrayContaining(['-nostdin', '-y']));
    expect(args.slice(args.indexOf('-i') + 2)).toEqual(['-y', '-frames:v', '1', '-vf', "scale='min(1280,iw)':-2", '-q:v', '3', '/tmp/p/poster.jpg']);
    expect(posterArgs(URL, 0.5, 640, 'o.jpg')).toContain('0.500');
  });

  it('transcodes to H.264/AAC MP4 with the index first, at most 720 lines on the shorter edge', () => {
    const args = renditionArgs(URL, '/tmp/t/720p.mp4', 720);
    expect(args.at(-1)).toBe('/tmp/t/720p.mp4');
    const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    expect(pairs('-i')).toEqual([URL]);
    expect(pairs('-c:v')).toEqual(['libx264']);
    expect(pairs('-c:a')).toEqual(['aac']);
    expect(pairs('-map')).toEqual(['0:v:0', '0:a:0?']);
    expect(pairs('-movflags')).toEqual(['+faststart']);
    expect(pairs('-f')).toEqual(['mp4']);
    expect(pairs('-pix_fmt')).toEqual(['yuv420p']);
    expect(pairs('-vf')).toEqual(["scale='if(gte(iw,ih),-2,min(720,iw))':'if(gte(iw,ih),min(720,ih),-2)'"]);
    expect(args).toEqual(expect.arrayContaining(['-nostdin', '-y']));
  });
});

describe('ffmpeg adapter: ffprobe JSON', () => {
  const probe = (streams: object[], format: object = { duration: '4.010000', format_name: 'mov,mp4,m4a,3gp,3g2,mj2' }) => JSON.stringify({ streams, format });

  it('reads duration, dimensions, codecs and container', () => {
    const json = probe([
      { codec_type: 'audio', codec_name: 'aac' },
      { codec_type: 'video', codec_name: 'h264', width: 320, height: 240 },
    ]);
    expect(parseProbeOutput(json)).toEqual({
      durationMs: 4010,
      width: 320,
      height: 240,
      videoCodec: 'h264',
      audioCodec: 'aac',
      container: 'mov,mp4,m4a,3gp,3g2,mj2',
    });
  });

  it('reports displayed dimensions for video recorded sideways (display matrix or rotate tag)', () => {
    const matrix = probe([{ codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, side_data_list: [{}, { rotation: -90 }] }]);
    expect(parseProbeOutput(matrix)).toMatchObject({ width: 1080, height: 1920 });
    const tag = probe([{ codec_type: 'video', codec_name: 'hevc', width: 1920, height: 1080, tags: { rotate: '270' } }]);
    expect(parseProbeOutput(tag)).toMatchObject({ width: 1080, height: 1920 });
    const upsideDown = probe([{ codec_type: 'video', width: 1920, height: 1080, tags: { rotate: '180' } }]);
    expect(parseProbeOutput(upsideDown)).toMatchObject({ width: 1920, height: 1080 });
  });

  it('falls back to the stream duration, and to unknown codec and container', () => {
    const json = JSON.stringify({ streams: [{ codec_type: 'video', width: 10, height: 10, duration: '2.5' }] });
    expect(parseProbeOutput(json)).toEqual({ durationMs: 2500, width: 10, height: 10, videoCodec: 'unknown', audioCodec: null, container: 'unknown' });
  });

  it('refuses output without a video stream, or that is not JSON, as undecodable', () => {
    expect(() => parseProbeOutput(probe([{ codec_type: 'audio', codec_name: 'mp3' }]))).toThrow(new MediaError('undecodable', 'no video stream'));
    expect(() => parseProbeOutput(probe([{ codec_type: 'video', width: 0, height: 0 }]))).toThrow('no video stream');
    expect(() => parseProbeOutput('{}')).toThrow('no video stream');
    expect(() => parseProbeOutput('not json')).toThrow(expect.objectContaining({ code: 'undecodable', message: expect.stringMatching(/^ffprobe: /) }));
  });
});

describe('ffmpeg adapter: error mapping', () => {
  it('maps a success to no error', () => {
    expect(ffFailure(run({ stderr: 'some warning' }), 30)).toBeNull();
    expect(ffFailure(run({ tool: 'ffprobe', stdout: '{}' }), 30)).toBeNull();
  });

  it('maps a process killed for its time limit to `timeout`, whatever its exit', () => {
    expect(ffFailure(run({ timedOut: true, signal: 'SIGKILL', code: null }), 60)).toEqual(new MediaError('timeout', 'ffmpeg took longer than 60 s'));
    const probe = ffFailure(run({ tool: 'ffprobe', timedOut: true, signal: 'SIGKILL', code: null }), 7);
    expect(probe).toMatchObject({ code: 'timeout', message: 'ffprobe took longer than 7 s' });
  });

  it("maps ffprobe's failure to `undecodable` with its first stderr line", () => {
    const stderr = '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5605853a18c0] moov atom not found\n/tmp/fake.mp4: Invalid data found when processing input\n';
    expect(ffFailure(run({ tool: 'ffprobe', code: 1, stderr }), 30)).toEqual(
      new MediaError('undecodable', 'ffprobe: [mov,mp4,m4a,3gp,3g2,mj2 @ 0x5605853a18c0] moov atom not found'),
    );
    expect(ffFailure(run({ tool: 'ffprobe', code: 1 }), 30)?.message).toBe('ffprobe: exited with code 1');
    expect(ffFailure(run({ tool: 'ffprobe', code: null, signal: 'SIGSEGV' }), 30)?.message).toBe('ffprobe: killed with signal SIGSEGV');
  });

  it("maps ffmpeg's failure to `undecodable` with its final error, worded as before the adapter", () => {
    const stderr = [
      "Input #0, lavfi, from 'x':",
      '  Duration: N/A',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55915a1108c0] moov atom not found',
      '/tmp/fake.mp4: Invalid data found when processing input',
      'Conversion failed!',
      '',
    ].join('\n');
    expect(ffFailure(run({ code: 1, stderr }), 30)).toEqual(
      new MediaError('undecodable', 'ffmpeg: ffmpeg exited with code 1: /tmp/fake.mp4: Invalid data found when processing input'),
    );
    expect(ffFailure(run({ code: 69 }), 30)?.message).toBe('ffmpeg: ffmpeg exited with code 69');
    expect(ffFailure(run({ code: null, signal: 'SIGSEGV', stderr }), 30)).toMatchObject({
      code: 'undecodable',
      message: 'ffmpeg: ffmpeg was killed with signal SIGSEGV',
    });
  });

  it('maps a tool that cannot start to a fault of the worker (retried), never a verdict on the file', () => {
    const missing = Object.assign(new Error('spawn ffprobe ENOENT'), { code: 'ENOENT' });
    const failure = ffFailure(run({ tool: 'ffprobe', code: null, spawnError: missing }), 30);
    expect(failure).toBeInstanceOf(FfUnavailableError);
    expect(failure).not.toBeInstanceOf(MediaError);
    expect(failure?.message).toBe('ffprobe could not be started: spawn ffprobe ENOENT');
  });

  it('maps ffprobe output past its limit to `undecodable`', () => {
    expect(ffFailure(run({ tool: 'ffprobe', code: null, signal: 'SIGKILL', stdoutOverflow: true }), 30)?.message).toBe(
      'ffprobe: stdout maxBuffer length exceeded',
    );
  });

  it('extracts the trailing lines that are not log lines (space- or bracket-prefixed)', () => {
    expect(extractFfmpegError('a\n  b\n[x] c\nd\r\ne')).toBe('d\ne');
    expect(extractFfmpegError('[x] only a log line')).toBe('');
  });
});

describe('ffmpeg adapter: bounded stderr', () => {
  it('keeps everything under the limit', () => {
    const tail = new TailBuffer(100);
    tail.push(Buffer.from('line one\n'));
    tail.push(Buffer.from('line two\n'));
    expect(tail.toString()).toBe('line one\nline two\n');
  });

  it('keeps only the last bytes, in whole lines', () => {
    const tail = new TailBuffer(STDERR_TAIL_BYTES);
    for (let i = 0; i < 10_000; i++) tail.push(Buffer.from(`frame=${i} fps=25 q=28.0 size=1024kB\r`));
    tail.push(Buffer.from('Conversion failed!\n'));
    const text = tail.toString();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STDERR_TAIL_BYTES);
    expect(text.startsWith('frame=')).toBe(true);
    expect(text.endsWith('Conversion failed!\n')).toBe(true);
  });

  it('splits a chunk larger than the limit', () => {
    const tail = new TailBuffer(8);
    tail.push(Buffer.from('0123456789\nabcdef'));
    expect(tail.toString()).toBe('abcdef');
  });
});
