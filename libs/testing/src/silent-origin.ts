import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sleep } from './wait';

/**
 * An HTTP origin that accepts requests and never answers: a decoder reading from it waits for as
 * long as it lives. It counts connections opened and closed, so a test can see that a decoder
 * killed at its time limit let go of its connection (one left running would hold it open).
 */
export class SilentOrigin {
  private readonly sockets = new Set<Socket>();
  private closed = 0;
  private readonly server = createServer(() => undefined).on('connection', (socket) => {
    this.sockets.add(socket);
    socket.on('close', () => this.closed++);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** A URL on this origin. */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Connections opened and closed so far, once `count` have closed or 2 s have passed. */
  async connectionsClosed(count: number): Promise<{ opened: number; closed: number }> {
    const deadline = Date.now() + 2_000;
    while (this.closed < count && Date.now() < deadline) await sleep(50);
    return { opened: this.sockets.size, closed: this.closed };
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
