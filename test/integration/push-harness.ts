import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@app/config';
import { createHttpApp } from '@app/http';
import { envStrings, StorageTestEnv, testConfig } from '@app/testing';
import { ChunkTrackerModule } from '../../apps/chunk-tracker/src/app.module';
import { trackerEnv } from '../../apps/chunk-tracker/src/config';
import { acceptPushBodies } from '../../apps/chunk-tracker/src/push-body';

export const PUSH_SECRET = 'integration-push-secret-0123456789abcdef';
export const PREVIOUS_PUSH_SECRET = 'integration-old-push-secret-0123456789ab';

export interface PushTracker {
  app: NestFastifyApplication;
  /** POSTs `body` to the push route over the app's HTTP stack, as RGW does (no content type unless given). */
  push(query: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * chunk-tracker built as main.ts builds it with STORAGE_EVENTS=http-push, on a database and bucket
 * the caller owns (an upload-api harness's, so uploads are made through the API).
 */
export async function startPushTracker(shared: { databaseUrl: string; storage: StorageTestEnv; queuePrefix: string }): Promise<PushTracker> {
  const cfg = testConfig();
  const config = loadConfig(trackerEnv, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: shared.databaseUrl,
    REDIS_URL: cfg.TEST_REDIS_URL,
    QUEUE_PREFIX: shared.queuePrefix,
    RECONCILE_INTERVAL_MS: '3600000',
    ...envStrings(shared.storage),
    SQS_QUEUE_URL: '', // none: the push route is the only source
    STORAGE_EVENTS: 'http-push',
    STORAGE_EVENTS_PUSH_SECRETS: `${PUSH_SECRET},${PREVIOUS_PUSH_SECRET}`,
  });
  const app = await createHttpApp(ChunkTrackerModule.register(config), { configure: acceptPushBodies });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    async push(query, body, headers = {}) {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await app.inject({ method: 'POST', url: `/v1/storage-events${query}`, headers, payload });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.statusCode, body: parsed };
    },
    async close() {
      await app.close();
    },
  };
}
