import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { Client } from 'pg';
import { loadConfig } from '@app/config';
import { createHttpApp } from '@app/http';
import { createTestDatabase, createTestStorage, StorageTestEnv, TestDatabase, testConfig } from '@app/testing';
import { uploadApiDescription } from '../../../apps/upload-api/src/api-description';
import { UploadApiModule } from '../../../apps/upload-api/src/app.module';
import { uploadApiEnv } from '../../../apps/upload-api/src/config';
import { setupOpenApi } from '@app/http';

export const ADMIN_TOKEN = 'integration-admin-token-0123';

export interface ApiHarness {
  app: NestFastifyApplication;
  db: TestDatabase;
  storage: StorageTestEnv;
  sql<T extends object>(text: string, values?: unknown[]): Promise<T[]>;
  request(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<{ status: number; headers: Record<string, unknown>; body: any }>;
  close(): Promise<void>;
}

/** upload-api built exactly as main.ts builds it, on a fresh database, bucket and queue prefix. */
export async function startApi(env: Record<string, string> = {}): Promise<ApiHarness> {
  const cfg = testConfig();
  const db = await createTestDatabase(cfg.TEST_POSTGRES_URL);
  const storage = await createTestStorage(cfg.TEST_MOTO_URL);
  const config = loadConfig(uploadApiEnv, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    REDIS_URL: cfg.TEST_REDIS_URL,
    QUEUE_PREFIX: `api-${db.name}`,
    ADMIN_TOKEN,
    TOKEN_SIGNING_SECRET: 'integration-token-signing-secret-0123456789',
    ...Object.fromEntries(Object.entries(storage).map(([k, v]) => [k, String(v)])),
    ...env,
  });
  const app = await createHttpApp(UploadApiModule.register(config), {
    configure: async (a) => {
      await a.register(fastifyCookie);
      setupOpenApi(a, uploadApiDescription);
    },
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  return {
    app,
    db,
    storage,
    sql: async <T extends object>(text: string, values: unknown[] = []) => (await pg.query(text, values)).rows as T[],
    async request(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let payload: string | undefined;
      if (opts.rawBody !== undefined) payload = opts.rawBody;
      else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.inject({ method: method as 'GET', url, headers, payload });
      let body: unknown = res.body;
      try {
        body = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.statusCode, headers: res.headers, body };
    },
    async close() {
      await app.close();
      await pg.end();
      await db.drop();
    },
  };
}

export async function createTenant(api: ApiHarness, body: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string }> {
  const res = await api.request('POST', '/v1/admin/tenants', { token: ADMIN_TOKEN, body: { name: 'team', ...body } });
  if (res.status !== 201) throw new Error(`tenant creation answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as { id: string; apiKey: string };
}
