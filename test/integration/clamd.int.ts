import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ClamdClient, ScannerUnavailableError, ScanTooLargeError } from '@app/media';
import { EICAR, freePort, PrivateClamd, TEST_MALWARE_MARKER } from '@app/testing';

const KiB = 1024;

/**
 * The INSTREAM client against a real clamd (ClamAV 1.4, Debian's clamav-daemon) on the signatures
 * the project ships for tests (issue #15): verdicts, clamd's stream limit, and an outage.
 */
describe('ClamdClient on a real clamd', () => {
  let clamd: PrivateClamd;
  let client: ClamdClient;
  /** A stream of `bytes` in chunks of a storage read's size, as GetObject hands them over. */
  const streamOf = (bytes: Buffer) =>
    Readable.from(Array.from({ length: Math.ceil(bytes.length / (16 * KiB)) }, (_, i) => bytes.subarray(i * 16 * KiB, (i + 1) * 16 * KiB)));

  beforeAll(async () => {
    clamd = new PrivateClamd(await freePort(), { streamMaxBytes: 1024 * KiB });
    await clamd.start();
    client = new ClamdClient({ host: '127.0.0.1', port: clamd.port, timeoutMs: 5_000, streamMaxBytes: 1024 * KiB });
  });
  afterAll(async () => {
    await clamd?.dispose();
  });

  it('finds the EICAR test file by the shipped signature', async () => {
    await expect(client.scan(streamOf(Buffer.from(EICAR)))).resolves.toEqual({ infected: true, signature: 'Eicar-Test-Signature.UNOFFICIAL' });
  });

  it('finds the custom test signature anywhere in a file, across chunk boundaries', async () => {
    const bytes = Buffer.concat([randomBytes(16 * KiB - 10), Buffer.from(TEST_MALWARE_MARKER), randomBytes(300 * KiB)]);
    await expect(client.scan(streamOf(bytes))).resolves.toEqual({ infected: true, signature: 'UploadPlatform.Test.Marker.UNOFFICIAL' });
  });

  it('answers clean for other bytes, up to the stream limit', async () => {
    await expect(client.scan(streamOf(randomBytes(1024 * KiB)))).resolves.toEqual({ infected: false });
    await expect(client.scan(streamOf(Buffer.alloc(0)))).resolves.toEqual({ infected: false });
  });

  it("past clamd's StreamMaxLength: ScanTooLargeError, without waiting for clamd's reset", async () => {
    await expect(client.scan(streamOf(randomBytes(3 * 1024 * KiB)))).rejects.toBeInstanceOf(ScanTooLargeError);
  });

  it('clamd down: ScannerUnavailableError (never a verdict), and PING false; back up: scans again', async () => {
    await clamd.stop();
    await expect(client.scan(streamOf(Buffer.from(EICAR)))).rejects.toBeInstanceOf(ScannerUnavailableError);
    await expect(client.ping()).resolves.toBe(false);
    await clamd.start();
    await expect(client.ping()).resolves.toBe(true);
    await expect(client.scan(streamOf(Buffer.from(EICAR)))).resolves.toMatchObject({ infected: true });
  });
});
