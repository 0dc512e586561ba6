import { S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer, getCACertificates, setDefaultCACertificates } from 'node:tls';
import { Readable } from 'node:stream';
import { DomainError } from '@app/contracts';
import { ClamdClient, ScannerUnavailableError, ScanTooLargeError } from '@app/media';
import { LentBytes, ObjectStorage } from '@app/storage';
import { createTestStorage, EICAR, freePort, PrivateClamd, sleep, TEST_MALWARE_MARKER, testConfig, testPresigner } from '@app/testing';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The INSTREAM client against a real clamd (ClamAV 1.4, Debian's clamav-daemon) on the signatures
 * the project ships for tests (issue #15): verdicts, clamd's stream limit, and an outage; and the
 * way the scan stage reads storage for it (ObjectStorage.readLent, against the emulator).
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

  it('gives a lent source every buffer back once written, the empty ones too', async () => {
    const bytes = Buffer.concat([randomBytes(100 * KiB), Buffer.from(TEST_MALWARE_MARKER), randomBytes(100 * KiB)]);
    const released: number[] = [];
    async function* lent(): AsyncGenerator<LentBytes> {
      for (let i = 0, offset = 0; offset < bytes.length; i++, offset += 64 * KiB) {
        if (i === 1) yield { bytes: Buffer.alloc(0), release: () => released.push(-1) };
        yield { bytes: bytes.subarray(offset, offset + 64 * KiB), release: () => released.push(i) };
      }
    }
    await expect(client.scan(lent())).resolves.toEqual({ infected: true, signature: 'UploadPlatform.Test.Marker.UNOFFICIAL' });
    expect(released.sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 3]);
  });

  it('clamd down: ScannerUnavailableError (never a verdict), and PING false; back up: scans again', async () => {
    await clamd.stop();
    await expect(client.scan(streamOf(Buffer.from(EICAR)))).rejects.toBeInstanceOf(ScannerUnavailableError);
    await expect(client.ping()).resolves.toBe(false);
    await clamd.start();
    await expect(client.ping()).resolves.toBe(true);
    await expect(client.scan(streamOf(Buffer.from(EICAR)))).resolves.toMatchObject({ infected: true });
  });

  describe('reading the object from storage (ObjectStorage.readLent)', () => {
    let s3: S3Client;
    let storage: ObjectStorage;

    beforeAll(async () => {
      const env = await createTestStorage(testConfig().TEST_MOTO_URL);
      ({ s3 } = testPresigner(env));
      storage = new ObjectStorage(s3, env.S3_BUCKET);
    });
    afterAll(() => s3?.destroy());

    it('scans the stored bytes in order: a signature across two of its buffers is found', async () => {
      // readLent's buffers hold 256 KiB: the marker straddles the first boundary.
      const key = 'scan/marker.bin';
      await storage.put(
        key,
        Buffer.concat([randomBytes(256 * KiB - 10), Buffer.from(TEST_MALWARE_MARKER), randomBytes(700 * KiB)]),
        'application/octet-stream',
      );
      await expect(client.scan(storage.readLent(key))).resolves.toEqual({ infected: true, signature: 'UploadPlatform.Test.Marker.UNOFFICIAL' });
      await storage.put('scan/clean.bin', randomBytes(1000 * KiB), 'application/octet-stream');
      await expect(client.scan(storage.readLent('scan/clean.bin'))).resolves.toEqual({ infected: false });
      await storage.put('scan/empty.bin', Buffer.alloc(0), 'application/octet-stream');
      await expect(client.scan(storage.readLent('scan/empty.bin'))).resolves.toEqual({ infected: false });
    });

    it('a missing object: storage not_found, no verdict', async () => {
      const error = await client.scan(storage.readLent('scan/missing.bin')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('not_found');
    });

    it('holds at most 4 MiB however large the object: reading waits until bytes are released', async () => {
      const bytes = randomBytes(12 * MiB);
      await storage.put('scan/large.bin', bytes, 'application/octet-stream');
      const reads = storage.readLent('scan/large.bin');
      const held: LentBytes[] = [];
      const copies: Buffer[] = [];
      const heldAtStalls: number[] = [];
      let next = reads.next();
      for (;;) {
        const step = await Promise.race([next, sleep(300).then(() => 'stalled' as const)]);
        if (step === 'stalled') {
          // Nothing more comes until some bytes are given back.
          heldAtStalls.push(held.reduce((sum, lent) => sum + lent.bytes.length, 0));
          for (const lent of held.splice(0)) lent.release();
          continue;
        }
        if (step.done) break;
        copies.push(Buffer.from(step.value.bytes));
        held.push(step.value);
        expect(held.reduce((sum, lent) => sum + lent.bytes.length, 0)).toBeLessThanOrEqual(4 * MiB);
        next = reads.next();
      }
      expect(heldAtStalls.length).toBeGreaterThanOrEqual(2);
      expect(Buffer.concat(copies).equals(bytes)).toBe(true);
    });

    describe('a storage that cuts the body short', () => {
      let server: Server;
      let cutting: S3Client;

      beforeAll(async () => {
        // Promises 1 MiB, sends 100 KiB, hangs up: as a connection lost mid-body looks.
        server = createServer((socket) => {
          socket.once('data', () => {
            socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nContent-Type: application/octet-stream\r\n\r\n');
            socket.end(randomBytes(100 * KiB));
          });
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as { port: number };
        cutting = new S3Client({
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${port}`,
          forcePathStyle: true,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' },
        });
      });
      afterAll(async () => {
        cutting?.destroy();
        await new Promise((resolve) => server?.close(resolve));
      });

      it('is a transient storage error, never a verdict on the bytes that came', async () => {
        const error = await client.scan(new ObjectStorage(cutting, 'bucket').readLent('scan/cut.bin')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe('storage_unavailable');
        expect((error as DomainError).message).toMatch(/IncompleteBody/);
      });
    });

    // Storage in production is https: the same read over TLS, the server's certificate checked.
    describe('over TLS', () => {
      let server: ReturnType<typeof createTlsServer>;
      let dir: string;
      const body = Buffer.concat([randomBytes(300 * KiB), Buffer.from(TEST_MALWARE_MARKER), randomBytes(300 * KiB)]);
      const defaultCAs = getCACertificates('default');

      beforeAll(async () => {
        dir = mkdtempSync(path.join(tmpdir(), 'tls-'));
        const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=localhost',
            '-addext',
            'subjectAltName=DNS:localhost',
            '-keyout',
            key,
            '-out',
            cert,
          ],
          { stdio: 'ignore' },
        );
        // Trusted as a CA would be: the read checks the certificate as it would AWS's.
        setDefaultCACertificates([...defaultCAs, readFileSync(cert, 'utf8')]);
        server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
          socket.once('data', () => {
            socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: application/octet-stream\r\n\r\n`);
            socket.end(body);
          });
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      });
      afterAll(async () => {
        setDefaultCACertificates(defaultCAs);
        await new Promise((resolve) => server?.close(resolve));
        rmSync(dir, { recursive: true, force: true });
      });

      const over = (host: string) => {
        const { port } = server.address() as { port: number };
        const s3 = new S3Client({
          region: 'us-east-1',
          endpoint: `https://${host}:${port}`,
          forcePathStyle: true,
          credentials: { accessKeyId: 't', secretAccessKey: 's' },
        });
        return { storage: new ObjectStorage(s3, 'bucket'), s3 };
      };

      it('reads an https endpoint whose certificate names it', async () => {
        const { storage, s3 } = over('localhost');
        await expect(client.scan(storage.readLent('scan/tls.bin'))).resolves.toEqual({ infected: true, signature: 'UploadPlatform.Test.Marker.UNOFFICIAL' });
        s3.destroy();
      });

      it('refuses one whose certificate names another host: a storage error, no verdict', async () => {
        const { storage, s3 } = over('127.0.0.1');
        const error = await client.scan(storage.readLent('scan/tls.bin')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|altnames/i);
        s3.destroy();
      });
    });
  });

  // Past its MaxFileSize clamd answers OK without scanning: PrivateClamd and `npm run up` raise it
  // with the stream limit, so a file over clamd's default 100 MiB is still scanned (ADR 0023).
  it('scans a stream past clamd’s default MaxFileSize (100 MiB) when the limit is raised with it', async () => {
    const large = new PrivateClamd(await freePort(), { streamMaxBytes: 128 * MiB });
    await large.start();
    try {
      const scanner = new ClamdClient({ host: '127.0.0.1', port: large.port, timeoutMs: 60_000, streamMaxBytes: 128 * MiB });
      const bytes = Buffer.alloc(101 * MiB);
      bytes.write(TEST_MALWARE_MARKER, 10 * MiB);
      await expect(scanner.scan(Readable.from([bytes]))).resolves.toEqual({ infected: true, signature: 'UploadPlatform.Test.Marker.UNOFFICIAL' });
    } finally {
      await large.dispose();
    }
  });
});
