import './tracing';
import 'reflect-metadata';
import fastifyCookie from '@fastify/cookie';
import { runService, setupOpenApi } from '@app/http';
import { uploadApiDescription } from './api-description';
import { UploadApiModule } from './app.module';
import { uploadApiEnv } from './config';
import { enableCors } from './cors';
import { serveWebApp } from './web/web-app';

void runService('upload-api', uploadApiEnv, (config) => ({
  module: UploadApiModule.register(config),
  port: config.UPLOAD_API_PORT,
  configure: async (app) => {
    // The Companion session cookie (docs/adr/0022): parsed on every request, set by POST /companion/session.
    await app.register(fastifyCookie);
    enableCors(app, config.API_CORS_ORIGINS);
    setupOpenApi(app, uploadApiDescription);
    await serveWebApp(app.getHttpAdapter().getInstance(), {
      syncUrl: config.PUBLIC_SYNC_URL,
      s3Endpoint: config.S3_PUBLIC_ENDPOINT ?? config.S3_ENDPOINT,
      s3Region: config.S3_REGION,
      cdnBaseUrl: config.CDN === 'none' ? undefined : config.CDN_BASE_URL,
    });
  },
}));
