import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClamdClient } from '@app/media';
import { repositoryRoot } from './root';
import { sleep } from './wait';

/**
 * The signature database the project ships for tests and the dev stack (these machines cannot
 * download ClamAV's): the EICAR test file by its MD5, and one custom body signature,
 * `UploadPlatform.Test.Marker`, matching TEST_MALWARE_MARKER anywhere in a file.
 */
export const TEST_SIGNATURES_DIR = path.join(repositoryRoot(), 'test', 'fixtures', 'clamav');

/** The EICAR anti-virus test file (68 bytes), assembled here so no file of the repository is one. */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

/** Bytes that the shipped custom signature finds anywhere in a file. */
export const TEST_MALWARE_MARKER = ['UPLOAD-PLATFORM-TEST', 'MALWARE-MARKER'].join('-');

/**
 * A clamd of a test's own, on the shipped signatures: suites that stop and restart the scanner
 * (an outage) touch no other suite's. `streamMaxBytes` is its StreamMaxLength, and its MaxFileSize
 * and MaxScanSize too: past MaxFileSize clamd answers OK without scanning (ADR 0023).
 */
export class PrivateClamd {
  private child: ChildProcess | null = null;
  private dir: string | null = null;

  constructor(
    readonly port: number,
    private readonly options: { streamMaxBytes?: number } = {},
  ) {}

  async start(): Promise<void> {
    // Already running: a second clamd would lose the port to the first, which then outlives dispose().
    if (this.child && this.child.exitCode === null) return;
    this.dir ??= mkdtempSync(path.join(tmpdir(), 'clamd-'));
    const config = path.join(this.dir, 'clamd.conf');
    writeFileSync(
      config,
      [
        'Foreground yes',
        `TCPSocket ${this.port}`,
        'TCPAddr 127.0.0.1',
        `DatabaseDirectory ${TEST_SIGNATURES_DIR}`,
        `StreamMaxLength ${this.options.streamMaxBytes ?? 100 * 1024 ** 2}`,
        `MaxFileSize ${this.options.streamMaxBytes ?? 100 * 1024 ** 2}`,
        `MaxScanSize ${this.options.streamMaxBytes ?? 100 * 1024 ** 2}`,
        'LogSyslog no',
        '',
      ].join('\n'),
    );
    this.child = spawn(clamdBinary(), ['-c', config], { stdio: 'ignore' });
    const client = new ClamdClient({ host: '127.0.0.1', port: this.port, timeoutMs: 1_000 });
    for (let i = 0; i < 100; i++) {
      if (await client.ping()) return;
      await sleep(100);
    }
    throw new Error(`clamd did not start on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Stops it and removes its configuration. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Debian installs clamd in /usr/sbin, which a non-root PATH may lack. */
function clamdBinary(): string {
  return (process.env.PATH ?? '').split(':').includes('/usr/sbin') ? 'clamd' : '/usr/sbin/clamd';
}
