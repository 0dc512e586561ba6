import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import sharp from 'sharp';
import { ClamdClient, extractPoster, inspect, probeVideo, renderImage } from '@app/media';
import { ObjectStorage } from '@app/storage';
import { createTestStorage, freePort, makeTestVideo, PrivateClamd, testConfig, testPresigner } from '@app/testing';
import { round } from './presign.bench';

const MiB = 1024 ** 2;

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Issue #4: the image pipeline vs raw sharp on the same images; verification (SHA-256 + sniff)
 * vs a raw GET of the same object; poster extraction from a 10-minute 1080p video. Issue #15: the
 * malware scan from storage vs clamdscan of the same bytes from a local file.
 */
export async function benchMedia(): Promise<Record<string, number>> {
  // 1. Images: 12 photos of 4000x3000. Raw sharp makes the same two WebP renditions; the
  //    pipeline adds metadata, EXIF handling, the pixel guard and the thumbhash placeholder.
  const photos = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 100 + i, sigma: 30 } } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
  const raw = async () => {
    for (const p of photos) {
      await sharp(p).rotate().resize(256, 256, { fit: 'inside' }).webp({ quality: 78 }).toBuffer();
      await sharp(p).rotate().resize(2048, 2048, { fit: 'inside' }).webp({ quality: 82 }).toBuffer();
    }
  };
  const pipeline = async () => {
    for (const p of photos) await renderImage(p, { maxPixels: 100_000_000 });
  };
  await raw();
  await pipeline();
  const rawMs = Math.min(await timeIt(raw), await timeIt(raw));
  const pipelineMs = Math.min(await timeIt(pipeline), await timeIt(pipeline));

  // 2. Verification: a 256 MiB object read as a raw GET vs through inspect (hash + sniff).
  const env = await createTestStorage(testConfig().TEST_MOTO_URL);
  const { s3 } = testPresigner(env);
  const storage = new ObjectStorage(s3, env.S3_BUCKET);
  const key = 'bench/verify.bin';
  const bytes = randomBytes(256 * MiB);
  await storage.put(key, bytes, 'application/octet-stream');
  const drain = async () => {
    for await (const chunk of await storage.openReadStream(key)) void chunk;
  };
  await drain();
  const getMs = Math.min(await timeIt(drain), await timeIt(drain));
  const verifyMs = Math.min(
    await timeIt(async () => inspect(await storage.openReadStream(key))),
    await timeIt(async () => inspect(await storage.openReadStream(key))),
  );

  // 3. Malware scan (issue #15): the same 256 MiB read from storage and sent to clamd the way the
  //    scan stage does it, vs clamdscan --stream sending the same bytes from a local file to the
  //    same clamd (the baseline: ClamAV's own client with no storage read in the way). clamdscan
  //    sends at most the StreamMaxLength of its own configuration (100 MiB when unset), then ends
  //    the stream, and clamd answers for what it got: its configuration says 512 MiB, as clamd's
  //    does, or the baseline sends 100 MiB and is timed as 256. Both streams are above clamd's
  //    MaxFileSize (100 MiB by default), which clamd stores but does not match signatures in:
  //    what is compared is getting the bytes into clamd (docs/adr/0023-malware-scanning.md).
  const scanDir = mkdtempSync(path.join(tmpdir(), 'bench-scan-'));
  const local = path.join(scanDir, 'scan.bin');
  writeFileSync(local, bytes);
  const clamd = new PrivateClamd(await freePort(), { streamMaxBytes: 512 * MiB });
  await clamd.start();
  const clamdConf = path.join(scanDir, 'clamd.conf');
  writeFileSync(clamdConf, `TCPSocket ${clamd.port}\nTCPAddr 127.0.0.1\nStreamMaxLength ${512 * MiB}\n`);
  // Timed by a shell around it: forking from this process, hundreds of MiB resident by now, costs
  // tens of milliseconds that are not clamdscan's (55-68 ms from a 1 GiB node process here).
  const timeClamdscan = () => {
    const script = 'start=$(date +%s%N); clamdscan --stream --no-summary -c "$1" "$2" >/dev/null || exit; echo $(($(date +%s%N) - start))';
    return Number(execFileSync('sh', ['-c', script, 'sh', clamdConf, local], { encoding: 'utf8' })) / 1e6;
  };
  const client = new ClamdClient({ host: '127.0.0.1', port: clamd.port, timeoutMs: 120_000, streamMaxBytes: 512 * MiB });
  const scanFromStorage = async () => {
    const verdict = await client.scan(storage.readLent(key));
    if (verdict.infected) throw new Error(`random bytes found infected: ${verdict.signature}`);
  };
  timeClamdscan();
  await scanFromStorage();
  // Taken in turns, so that load from outside the benchmark weighs on both alike.
  const clamdscanRuns: number[] = [];
  const scanRuns: number[] = [];
  for (let i = 0; i < 2; i++) {
    clamdscanRuns.push(timeClamdscan());
    scanRuns.push(await timeIt(scanFromStorage));
  }
  const clamdscanMs = Math.min(...clamdscanRuns);
  const scanMs = Math.min(...scanRuns);
  await clamd.dispose();
  rmSync(scanDir, { recursive: true, force: true });
  await storage.delete(key);

  // 4. Poster: a 10-minute 1080p H.264 video (about 1 GB), read by ffmpeg through a presigned GET
  //    URL from the emulator, and the same file from an origin that serves ranges the way S3
  //    does (in constant time), with a 10-second video from that origin as the baseline.
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-video-'));
  const video = makeTestVideo(path.join(dir, 'ten-minutes.mp4'), { seconds: 600, width: 1920, height: 1080, fast: true });
  makeTestVideo(path.join(dir, 'ten-seconds.mp4'), { seconds: 10, width: 1920, height: 1080, fast: true });
  const videoKey = 'bench/ten-minutes.mp4';
  await storage.put(videoKey, readFileSync(video), 'video/mp4');
  const url = (await testPresigner(env).presigner.getObject(videoKey, { expiresInSeconds: 900 })).url;
  const probeMs = await timeIt(() => probeVideo(url, 60));
  const posterEarlyMs = await timeIt(() => extractPoster(url, 1, 1280, 60));
  const posterMiddleMs = await timeIt(() => extractPoster(url, 300, 1280, 60));
  // The emulator's own part: ffmpeg makes two open-ended range requests (the header, then the
  // frame), and moto copies the whole object for every ranged GET. Replayed with plain GETs.
  const rangeGet = async (from: number) => {
    const response = await fetch(url, { headers: { range: `bytes=${from}-` } });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
  };
  const emulatorTwoRangesMs = await timeIt(async () => {
    await rangeGet(0);
    await rangeGet(Math.floor(statSync(video).size / 2));
  });
  await storage.delete(videoKey);
  s3.destroy();

  const origin = Fastify();
  await origin.register(fastifyStatic, { root: dir });
  const base = await origin.listen({ host: '127.0.0.1', port: 0 });
  await extractPoster(`${base}/ten-seconds.mp4`, 1, 1280, 60); // ffmpeg's first start
  const originTenSecondsMs = Math.min(
    await timeIt(() => extractPoster(`${base}/ten-seconds.mp4`, 1, 1280, 60)),
    await timeIt(() => extractPoster(`${base}/ten-seconds.mp4`, 5, 1280, 60)),
  );
  const originEarlyMs = await timeIt(() => extractPoster(`${base}/ten-minutes.mp4`, 1, 1280, 60));
  const originMiddleMs = await timeIt(() => extractPoster(`${base}/ten-minutes.mp4`, 300, 1280, 60));
  await origin.close();
  rmSync(dir, { recursive: true, force: true });

  return {
    rawSharpImagesPerSecond: round((photos.length * 1000) / rawMs),
    pipelineImagesPerSecond: round((photos.length * 1000) / pipelineMs),
    imagePipelineVsRawRatio: round(rawMs / pipelineMs),
    rawGetMiBps: round(256 / (getMs / 1000)),
    verifyMiBps: round(256 / (verifyMs / 1000)),
    verifyVsGetRatio: round(getMs / verifyMs),
    clamdscanLocalMiBps: round(256 / (clamdscanMs / 1000)),
    scanFromStorageMiBps: round(256 / (scanMs / 1000)),
    scanVsClamdscanRatio: round(clamdscanMs / scanMs),
    probe10MinMs: round(probeMs),
    posterAt1sMs: round(posterEarlyMs),
    posterAt300sMs: round(posterMiddleMs),
    emulatorTwoRangeGetsMs: round(emulatorTwoRangesMs),
    originPoster10sVideoMs: round(originTenSecondsMs),
    originPosterAt1sMs: round(originEarlyMs),
    originPosterAt300sMs: round(originMiddleMs),
    originPoster10MinVs10sRatio: round(Math.max(originEarlyMs, originMiddleMs) / originTenSecondsMs),
  };
}
