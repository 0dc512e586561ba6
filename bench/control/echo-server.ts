import { fastify } from 'fastify';

/**
 * The HTTP ceiling of the control-plane benchmark, run as its own process like upload-api: the
 * project's Fastify, production-like (no logging), answering every request with a small JSON echo
 * of what it received. Whatever upload-api does beyond this is our cost.
 * Usage: node echo-server.js <port>; prints "listening" once it accepts connections.
 */
async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const app = fastify({ logger: false });
  app.all('/*', (request) => Promise.resolve({ method: request.method, url: request.url, body: request.body ?? null }));
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write('listening\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
