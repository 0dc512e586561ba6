import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';

/**
 * The request id of the work in progress (issue #16): the HTTP request's inside a request, or the
 * one a job or a storage event is run under (`withRequestId`). nestjs-pino keeps the logger of the
 * work in an AsyncLocalStorage; its bindings hold the id.
 */
export function currentRequestId(): string | undefined {
  const bindings = storage.getStore()?.logger.bindings() as { requestId?: unknown; req?: { id?: unknown } } | undefined;
  const id = bindings?.requestId ?? bindings?.req?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Runs `work` under `requestId`: every line logged by a Nest Logger within it carries the id, and
 * every job it enqueues carries it on (JobQueue). No id (a file from before ids were recorded, a
 * timer's own work): `work` runs as it is.
 */
export function withRequestId<T>(requestId: string | null | undefined, work: () => T): T {
  if (!requestId || !PinoLogger.root) return work();
  return storage.run(new Store(PinoLogger.root.child({ requestId })), work);
}
