import 'reflect-metadata';
import { runService, setupOpenApi } from '@app/http';
import { uploadApiDescription } from './api-description';
import { UploadApiModule } from './app.module';
import { uploadApiEnv } from './config';
import { enableCors } from './cors';

void runService('upload-api', uploadApiEnv, (config) => ({
  module: UploadApiModule.register(config),
  port: config.UPLOAD_API_PORT,
  configure: (app) => {
    enableCors(app, config.API_CORS_ORIGINS);
    setupOpenApi(app, uploadApiDescription);
  },
}));
