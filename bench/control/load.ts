import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, SERVICE_NODE_FLAGS } from '@app/testing';

/** One request shape of a scenario; `next(n)` makes the n-th request (distinct names, rotating keys). */
export interface RequestShape {
  method: 'GET' | 'POST';
  path: string;
  next(n: number): { headers: Record<string, string>; body?: string; path?: string };
}

export interface LoadResult {
  /** Successful (2xx) responses per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx, plus connection errors and timeouts. */
  failures: number;
}

/**
 * `connections` keep-alive connections sending `shape` for `seconds` (autocannon, in this process):
 * successful responses per second and the latency distribution of all responses.
 */
export async function load(baseUrl: string, shape: RequestShape, opts: { connections: number; seconds: number }): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 30,
    requests: [
      {
        method: shape.method,
        path: shape.path,
        setupRequest: (request) => {
          const made = shape.next(n++);
          return { ...request, path: made.path ?? shape.path, headers: made.headers, body: made.body };
        },
      },
    ],
  });
  return {
    rps: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** The bare Fastify echo (./echo-server.ts) as its own process, started with the services' Node flags. */
export class EchoServer {
  private child: ChildProcess | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, path.join(__dirname, 'echo-server.js'), String(this.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`echo server not listening within 10 s: ${output}`)), 10_000);
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', seen);
      child.stderr?.on('data', seen);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`echo server exited (${code}): ${output}`));
      });
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
