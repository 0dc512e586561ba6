import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { Access, Scope } from '@app/auth';
import type { OwnerScope } from '@app/auth';
import { APP_CONFIG } from '@app/config';
import type { SyncEnv } from '@app/config';
import { changePage, DomainError, listChangesQuery } from '@app/contracts';
import { Problems } from '@app/http';
import { ChangeHub } from './change-hub.service';
import { FeedPage, FeedService } from './feed.service';
import { OwnerSlots } from './owner-slots';

class ListChangesQueryDto extends createZodDto(listChangesQuery) {}
class ChangePageDto extends createZodDto(changePage) {}

@ApiTags('changes')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Owner-Id', required: false, description: 'With a tenant API key: the owner whose feed to read' })
@Access('owner')
@Controller('v1/changes')
export class ChangesController {
  constructor(
    private readonly feed: FeedService,
    private readonly hub: ChangeHub,
    private readonly slots: OwnerSlots,
    @Inject(APP_CONFIG) private readonly config: SyncEnv,
  ) {}

  /**
   * The owner's changes after `cursor`, oldest first. With `waitSeconds`, an empty answer is held
   * until a change lands (answered at once) or the time passes.
   */
  @Get()
  @ApiOperation({
    summary: "Read the owner's changes",
    description:
      'Changes after `cursor`, oldest first, each once. With `waitSeconds` an empty answer is held until a change lands or the time passes (long-poll). Devices that can hold a WebSocket use `/v1/sync` instead (described in /docs/asyncapi.json).',
  })
  @ZodResponse({ status: 200, type: ChangePageDto, description: 'A page of changes and the cursor to continue from' })
  @Problems('cursor_expired', 'too_many_connections')
  async list(@Scope() scope: OwnerScope, @Query() query: ListChangesQueryDto, @Req() request: FastifyRequest): Promise<FeedPage> {
    const after = await this.feed.start(scope, query.cursor);
    const limit = query.limit ?? 100;
    const waitMs = Math.min(query.waitSeconds ?? 0, this.config.SYNC_MAX_WAIT_SECONDS) * 1000;
    if (waitMs === 0) return this.feed.page(scope, after, limit);
    // A held request is a connection like a WebSocket: one of the owner's slots, until it ends.
    const release = this.slots.take(scope);
    if (!release) throw new DomainError('too_many_connections', `At most ${this.slots.limit} connections of one owner may wait here.`);
    // Listen before reading, so a change committed between the read and the wait is not missed.
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const listening = this.hub.listen(scope.tenantId, scope.ownerId, () => wake());
    const timer = setTimeout(wake, waitMs);
    const onClose = () => wake();
    // The client went away: stop waiting (the request's own 'close' fires once its body is read).
    request.raw.socket.once('close', onClose);
    try {
      await listening.ready;
      const first = await this.feed.page(scope, after, limit);
      if (first.changes.length) return first;
      await woken;
      return await this.feed.page(scope, after, limit);
    } finally {
      release();
      listening.stop();
      clearTimeout(timer);
      request.raw.socket.off('close', onClose);
    }
  }
}
