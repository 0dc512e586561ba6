import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Browsers call the API from the teams' web apps (another origin): allow those origins, the
 * headers the contract uses, and expose what clients read back. Bytes go to storage, whose own
 * CORS rule (bucket bootstrap) exposes the ETag.
 */
export function enableCors(app: NestFastifyApplication, origins: string[]): void {
  app.enableCors({
    origin: origins.includes('*') ? true : origins,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-owner-id', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'location'],
    maxAge: 600,
  });
}
