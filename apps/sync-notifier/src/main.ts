import 'reflect-metadata';
import { runService } from '@app/http';
import { SyncNotifierModule } from './app.module';
import { notifierEnv } from './config';

void runService('sync-notifier', notifierEnv, (config) => ({
  module: SyncNotifierModule.register(config),
  port: config.SYNC_NOTIFIER_PORT,
}));
