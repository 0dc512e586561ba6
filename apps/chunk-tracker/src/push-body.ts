import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * chunk-tracker's HTTP setup beyond the platform's: with STORAGE_EVENTS=http-push, bodies of any
 * content type (or none) reach the push route as text. RGW 16.2 does not promise
 * `application/json` on its pushes, and the platform parser would answer 415, which RGW's
 * persistent topic would retry without end. (JSON bodies still go through the platform parser.)
 */
export function acceptPushBodies(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
