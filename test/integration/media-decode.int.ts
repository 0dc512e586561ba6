import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { probeVideo } from '@app/media';

/**
 * Decoders past their time limit stop working, not only stop being waited for (issue #11): a
 * source that never answers holds ffprobe, which must be killed when the file fails.
 */
describe('video adapter time limit (ffprobe)', () => {
  const sockets = new Set<Socket>();
  const closed: number[] = [];
  // Accepts the request and never answers: ffprobe waits on it for as long as it lives.
  const server = createServer(() => undefined).on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => closed.push(Date.now()));
  });

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('kills ffprobe when it outlasts its time limit, failing with `timeout`', async () => {
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    await expect(probeVideo(`http://127.0.0.1:${port}/video.mp4`, 1)).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    // The killed process's connection closes; a probe left running would hold it open.
    const deadline = Date.now() + 2_000;
    while (closed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.size).toBe(1);
    expect(closed).toHaveLength(1);
  });
});
