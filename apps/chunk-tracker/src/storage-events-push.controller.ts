import { Body, Controller, HttpCode, Logger, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@app/contracts';
import type { StorageEvent } from '@app/domain';
import { parseS3Records } from '@app/storage';
import { PushSecretGuard } from './push-secret.guard';
import { StorageEventsService } from './storage-events.service';

/**
 * Storage events pushed over HTTP (STORAGE_EVENTS=http-push): Ceph RGW's topic POSTs each event as
 * `{ "Records": [...] }` to `POST /v1/storage-events?access_token=<secret>`
 * (docs/adr/0018-storage-events-http-push.md). The push is one message for the same batch handler
 * SQS feeds, so the ledger and transitions are the same. 200 only after the commit; 503 when
 * handling failed (RGW's persistent topic keeps the event and pushes it again; a replay is a
 * ledger duplicate); 400 for a body that is no Records document, which RGW never sends.
 */
@Controller('v1/storage-events')
@UseGuards(PushSecretGuard)
export class StorageEventsPushController {
  private readonly logger = new Logger(StorageEventsPushController.name);

  constructor(private readonly events: StorageEventsService) {}

  @Post()
  @HttpCode(200)
  async push(@Body() body: unknown, @Req() request: FastifyRequest): Promise<{ events: number }> {
    const events = parseS3Records(readJson(body));
    if (!events) throw new DomainError('validation_failed', 'The body must be an S3 event document: {"Records": [...]}.');
    // What the ledger cannot store would fail the commit on every retry: refuse it at the door.
    if (!events.every(storable)) throw new DomainError('validation_failed', 'The body holds a string that is not valid Unicode (a lone surrogate).');
    const message = { events, context: { messageId: request.id, receiveCount: 1 } };
    let done: unknown[];
    try {
      done = await this.events.handleBatch([message]);
    } catch (error) {
      this.logger.warn({ err: error, requestId: request.id, events: events.length }, 'pushed storage events failed; the sender retries');
      done = [];
    }
    if (!done.length) throw new DomainError('dependency_unavailable', 'The events were not recorded; push them again.');
    return { events: events.length };
  }
}

/** The document pushed: parsed already (sent as application/json), or text (another content type, or none). */
function readJson(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new DomainError('validation_failed', 'The body is not JSON.');
  }
}

function storable(event: StorageEvent): boolean {
  return [event.eventName, event.bucket, event.key, event.etag, event.sequencer, event.eventTime].every((s) => s === null || s.isWellFormed());
}
