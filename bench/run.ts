import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchPresign } from './presign.bench';
import { benchMedia } from './media.bench';
import { benchUpload } from './upload.bench';

/** npm run bench: every benchmark, its ratio against a baseline measured in the same run. */
async function main(): Promise<void> {
  const results: Record<string, Record<string, number>> = {};
  process.stdout.write('presign: 1,000 part URLs, FastPresigner vs getSignedUrl\n');
  results.presign = await benchPresign();
  process.stdout.write(`${JSON.stringify(results.presign, null, 2)}\n`);
  process.stdout.write('upload: 1 GiB through the SDK and services vs raw parallel PUTs\n');
  results.upload = await benchUpload();
  process.stdout.write(`${JSON.stringify(results.upload, null, 2)}\n`);
  process.stdout.write('media: image pipeline vs raw sharp, verify vs raw GET, poster of a 10-minute 1080p video\n');
  results.media = await benchMedia();
  process.stdout.write(`${JSON.stringify(results.media, null, 2)}\n`);
  const targets = [
    ['presign speedup >= 20x', results.presign.speedup >= 20],
    ['presign < 50 ms per 1,000', results.presign.fastPresignerMsPer1000 < 50],
    ['SDK / raw throughput >= 0.9', results.upload.sdkVsRawRatio >= 0.9],
    ['upload-api RSS growth < 50 MB', results.upload.uploadApiRssGrowthMiB * 1.048576 < 50],
  ] as const;
  for (const [name, met] of targets) process.stdout.write(`${met ? 'met    ' : 'MISSED '} ${name}\n`);
  const out = path.resolve(__dirname, '../../.stack/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.json'), JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
