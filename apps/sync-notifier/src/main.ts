import './tracing';
import 'reflect-metadata';
import { runService, setupOpenApi } from '@app/http';
import { syncNotifierDescription } from './api-description';
import { SyncNotifierModule } from './app.module';
import { notifierEnv } from './config';

void runService('sync-notifier', notifierEnv, (config) => ({
  module: SyncNotifierModule.register(config),
  port: config.SYNC_NOTIFIER_PORT,
  configure: (app) => setupOpenApi(app, syncNotifierDescription),
}));
