import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { renderNginxConf, storageOrigin } from '@app/delivery';
import { sleep } from './wait';

export interface PrivateNginxOptions {
  port: number;
  secret: string;
  s3: { S3_ENDPOINT?: string; S3_BUCKET: string; S3_REGION: string; S3_FORCE_PATH_STYLE: boolean; S3_VARIANT_PREFIX: string };
}

/**
 * nginx as a test's own CDN (Debian's nginx-light), configured from deploy/nginx/nginx.conf.template
 * exactly as the stack's, with its cache in a directory of its own.
 */
export class PrivateNginx {
  private child: ChildProcess | null = null;
  private dir: string | null = null;

  constructor(private readonly options: PrivateNginxOptions) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  async start(): Promise<void> {
    this.dir ??= mkdtempSync(path.join(tmpdir(), 'cdn-'));
    const conf = path.join(this.dir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConf({
        CDN_LISTEN: `127.0.0.1:${this.options.port}`,
        CDN_STATE_DIR: this.dir,
        CDN_NGINX_SECRET: this.options.secret,
        S3_VARIANT_PREFIX: this.options.s3.S3_VARIANT_PREFIX,
        ...storageOrigin(this.options.s3),
      }),
    );
    // Workers as this process's user (a root master would make them www-data, who cannot enter a
    // private temporary directory), as scripts/stack.sh runs them.
    const { username } = userInfo();
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    this.child = spawn(nginxBinary(), ['-c', conf, '-p', this.dir, '-e', path.join(this.dir, 'error.log'), '-g', `daemon off; user ${username} ${group};`], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null) break;
      if (
        await fetch(`${this.baseUrl}/`).then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(50);
    }
    throw new Error(`nginx did not start on ${this.options.port}: ${this.errors()}`);
  }

  /** nginx's error log: what it refused, and why. */
  errors(): string {
    try {
      return this.dir ? readFileSync(path.join(this.dir, 'error.log'), 'utf8') : '';
    } catch {
      return '';
    }
  }

  async dispose(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Debian installs nginx in /usr/sbin, which a non-root PATH may lack. */
function nginxBinary(): string {
  return (process.env.PATH ?? '').split(':').includes('/usr/sbin') ? 'nginx' : '/usr/sbin/nginx';
}
