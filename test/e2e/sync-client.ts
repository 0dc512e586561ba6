import { WebSocket } from 'ws';
import type { Change } from '@app/sdk';
import { until } from './stack';

export type { Change };

/** A device on /v1/sync: collects every change it is sent, in order. */
export class Device {
  readonly changes: Change[] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; change?: Change };
      if (message.type === 'change' && message.change) this.changes.push(message.change);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString('utf8') }));
  }

  /** Connects (resolves once open) or rejects with the HTTP status of a refused upgrade. */
  static connect(baseUrl: string, token: string, cursor?: string): Promise<Device> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/sync${cursor ? `?cursor=${cursor}` : ''}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      const device = new Device(ws);
      ws.once('open', () => resolve(device));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  get cursor(): string | undefined {
    return this.changes[this.changes.length - 1]?.cursor;
  }

  async waitForCount(n: number, timeoutMs = 20_000): Promise<Change[]> {
    await until(`${n} changes (have ${this.changes.length})`, async () => this.changes.length >= n || null, timeoutMs, 20);
    return this.changes;
  }

  async waitFor(predicate: (c: Change) => boolean, timeoutMs = 20_000): Promise<Change> {
    return until('a matching change', async () => this.changes.find(predicate) ?? null, timeoutMs, 20);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }
}

/** Cursors of a feed followed correctly: each exactly once, consecutive, in order. */
export function expectGapFree(changes: Change[], from = 0): void {
  const seqs = changes.map((c) => Number(c.cursor));
  const expected = Array.from({ length: seqs.length }, (_, i) => from + i + 1);
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) throw new Error(`cursors not consecutive from ${from + 1}: ${seqs.join(',')}`);
}
