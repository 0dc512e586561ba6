import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { repositoryRoot } from './root';
import { sleep } from './wait';

const ROOT = repositoryRoot();

/** A process's resident memory (VmRSS) in bytes, or 0 once it has gone. */
export function residentBytes(pid: number): number {
  if (!existsSync(`/proc/${pid}/status`)) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

export type ServiceName = 'upload-api' | 'sync-notifier' | 'chunk-tracker' | 'media-processor';

export const PORT_VARIABLE: Record<ServiceName, string> = {
  'upload-api': 'UPLOAD_API_PORT',
  'sync-notifier': 'SYNC_NOTIFIER_PORT',
  'chunk-tracker': 'CHUNK_TRACKER_PORT',
  'media-processor': 'MEDIA_PROCESSOR_PORT',
};

/** How services run: source maps, and a young generation sized for request churn (docs/benchmarks.md). */
export const SERVICE_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=16'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One service as a real process, from the build in dist/ (scripts/test.sh builds it first), or in
 * `build`, a folder of the repository a test built itself (scripts/build.mjs with BUILD_OUT).
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  readonly output: string[] = [];

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly build = path.join(ROOT, 'dist'),
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    if (this.child) throw new Error(`${this.name} already started`);
    // The same flags as scripts/lib.sh NODE_SERVICE_FLAGS and the Dockerfile.
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, path.join(this.build, 'apps', this.name, 'src/main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.env, [PORT_VARIABLE[this.name]]: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 2_000) this.output.splice(0, this.output.length - 2_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child = child;
    return this;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exit?.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`${this.name} exited before it was ready:\n${this.output.slice(-30).join('\n')}`);
      if ((await this.readiness()).status === 200) return;
      await sleep(200);
    }
    throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.output.slice(-30).join('\n')}`);
  }

  async readiness(): Promise<{ status: number; body: any }> {
    try {
      const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      return { status: res.status, body: await res.json() };
    } catch {
      return { status: 0, body: null };
    }
  }

  /** Sends a signal and resolves with the exit code and how long the process took to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    if (!this.child || !this.exit) return { code: null, signal: null, ms: 0 };
    const started = Date.now();
    this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const result = await this.exit;
    clearTimeout(timer);
    this.child = null;
    return { ...result, ms: Date.now() - started };
  }
}
