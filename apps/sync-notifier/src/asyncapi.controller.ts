import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '@app/config';
import type { SyncEnv } from '@app/config';
import { asyncApiDocument } from '@app/contracts';

/**
 * GET /docs/asyncapi.json (public, like /docs/openapi.json): the AsyncAPI document of the WebSocket
 * /v1/sync, generated from the zod contract, naming the host the caller reached and this
 * replica's settings.
 */
@ApiExcludeController()
@Controller('docs')
export class AsyncApiController {
  constructor(@Inject(APP_CONFIG) private readonly config: SyncEnv) {}

  @Get('asyncapi.json')
  document(@Req() request: FastifyRequest): Record<string, unknown> {
    // Fastify's trustProxy makes these what the caller sees (X-Forwarded-Proto and -Host).
    return asyncApiDocument({
      serverUrl: `${request.protocol === 'https' ? 'wss' : 'ws'}://${request.host}`,
      settings: {
        heartbeatSeconds: this.config.SYNC_HEARTBEAT_SECONDS,
        maxBufferedBytes: this.config.SYNC_MAX_BUFFERED_BYTES,
        maxConnectionsPerOwner: this.config.SYNC_MAX_CONNECTIONS_PER_OWNER,
      },
    });
  }
}
