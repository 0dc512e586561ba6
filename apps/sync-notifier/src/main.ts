import 'reflect-metadata';
import { runService, setupOpenApi } from '@app/http';
import { SyncNotifierModule } from './app.module';
import { notifierEnv } from './config';

void runService('sync-notifier', notifierEnv, (config) => ({
  module: SyncNotifierModule.register(config),
  port: config.SYNC_NOTIFIER_PORT,
  configure: (app) =>
    setupOpenApi(
      app,
      'Upload platform API: changes and webhooks',
      'The per-owner change feed (GET /v1/changes, WebSocket /v1/sync) and webhooks for internal teams.',
    ),
}));
