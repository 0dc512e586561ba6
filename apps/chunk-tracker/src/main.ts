import './tracing';
import 'reflect-metadata';
import { runService } from '@app/http';
import { ChunkTrackerModule } from './app.module';
import { trackerEnv } from './config';
import { acceptPushBodies } from './push-body';

void runService('chunk-tracker', trackerEnv, (config) => ({
  module: ChunkTrackerModule.register(config),
  port: config.CHUNK_TRACKER_PORT,
  configure: config.STORAGE_EVENTS === 'http-push' ? acceptPushBodies : undefined,
}));
