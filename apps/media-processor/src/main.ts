import './tracing';
import 'reflect-metadata';
import { runService } from '@app/http';
import { MediaProcessorModule } from './app.module';
import { mediaProcessorEnv } from './config';

void runService('media-processor', mediaProcessorEnv, (config) => ({
  module: MediaProcessorModule.register(config),
  port: config.MEDIA_PROCESSOR_PORT,
}));
