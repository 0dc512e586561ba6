import { UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client, FastPresigner } from '@app/storage';

const KEY = 'uploads/0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b/9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';
const PARTS = 1_000;
const ROUNDS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Signing 1,000 part URLs: FastPresigner vs the SDK's getSignedUrl, same client config, same run. */
export async function benchPresign(): Promise<Record<string, number>> {
  const config = {
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: 'http://127.0.0.1:5059',
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
  } as const;
  const s3 = createS3Client(config as never);
  const fast = new FastPresigner({
    bucket: 'bench',
    region: 'us-east-1',
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: s3.config.credentials,
    expiresInSeconds: 900,
  });
  const numbers = Array.from({ length: PARTS }, (_, i) => ({ partNumber: i + 1 }));
  const viaSdk = () =>
    Promise.all(
      numbers.map(({ partNumber }) =>
        getSignedUrl(s3, new UploadPartCommand({ Bucket: 'bench', Key: KEY, UploadId: 'upload-1', PartNumber: partNumber }), { expiresIn: 900 }),
      ),
    );
  const viaFast = () => fast.uploadParts(KEY, 'upload-1', numbers);
  // Warm up both paths (JIT, credential and endpoint caches).
  for (let i = 0; i < 3; i++) {
    await viaSdk();
    await viaFast();
  }
  const sdk: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    sdk.push(await timeIt(viaSdk));
    ours.push(await timeIt(viaFast));
  }
  s3.destroy();
  const sdkMs = median(sdk);
  const fastMs = median(ours);
  return { getSignedUrlMsPer1000: round(sdkMs), fastPresignerMsPer1000: round(fastMs), speedup: round(sdkMs / fastMs) };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
