import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { Access, CurrentPrincipal } from '@app/auth';
import type { Principal } from '@app/auth';
import { createWebhookBody, deliveryList, DomainError, listDeliveriesQuery, webhookCreated, webhookList } from '@app/contracts';
import { WebhookRepository } from '@app/database';
import { decodePageCursor, encodePageCursor, IdPipe } from '@app/http';
import { WebhooksService } from './webhooks.service';

class CreateWebhookDto extends createZodDto(createWebhookBody) {}
class WebhookCreatedDto extends createZodDto(webhookCreated) {}
class WebhookListDto extends createZodDto(webhookList) {}
class DeliveryListDto extends createZodDto(deliveryList) {}
class ListDeliveriesQueryDto extends createZodDto(listDeliveriesQuery) {}

const tenantOf = (p: Principal) => {
  if (p.kind !== 'tenant') throw new DomainError('forbidden', 'Webhooks belong to a tenant: use its API key.');
  return p.tenantId;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

@ApiTags('webhooks')
@ApiBearerAuth()
@Access('tenant')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly service: WebhooksService,
    private readonly webhooks: WebhookRepository,
  ) {}

  /** Registers an endpoint for some change types; the signing secret is shown once. */
  @Post()
  @ApiOperation({
    summary: 'Register a webhook',
    description: 'An endpoint that receives some change types of the whole tenant, signed (Standard Webhooks); the secret is shown once.',
  })
  @ZodResponse({ status: 201, type: WebhookCreatedDto, description: 'The webhook and its signing secret' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateWebhookDto) {
    return this.service.create(tenantOf(principal), body);
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's webhooks" })
  @ZodResponse({ status: 200, type: WebhookListDto, description: 'The webhooks' })
  async list(@CurrentPrincipal() principal: Principal) {
    const items = await this.webhooks.list(tenantOf(principal));
    return { items: items.map((w) => ({ id: w.id, url: w.url, events: w.events, createdAt: w.createdAt.toISOString(), rotatedAt: iso(w.rotatedAt) })) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a webhook' })
  @ApiResponse({ status: 204, description: 'Removed' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: string): Promise<void> {
    if (!(await this.webhooks.delete(tenantOf(principal), id))) throw new DomainError('not_found', 'No such webhook.');
  }

  /** A new secret, shown once; the previous one also signs deliveries for WEBHOOK_SECRET_GRACE_HOURS. */
  @Post(':id/rotate-secret')
  @ApiOperation({
    summary: "Rotate a webhook's secret",
    description: 'A new secret, shown once; the previous one also signs deliveries for WEBHOOK_SECRET_GRACE_HOURS.',
  })
  @ZodResponse({ status: 201, type: WebhookCreatedDto, description: 'The webhook and its new secret' })
  rotate(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: string) {
    return this.service.rotate(tenantOf(principal), id);
  }

  /** The delivery log, newest first: status, attempts, the last answer or error. */
  @Get(':id/deliveries')
  @ApiOperation({ summary: "List a webhook's deliveries", description: 'The delivery log, newest first: status, attempts, the last answer or error.' })
  @ZodResponse({ status: 200, type: DeliveryListDto, description: 'A page of deliveries' })
  async deliveries(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: string, @Query() query: ListDeliveriesQueryDto) {
    await this.service.owned(tenantOf(principal), id);
    const limit = query.limit ?? 50;
    const rows = await this.webhooks.deliveries(id, {
      before: query.cursor ? decodePageCursor(query.cursor) : undefined,
      status: query.status,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((d) => ({
        id: d.id,
        eventType: d.eventType,
        status: d.status,
        attempts: d.attempts,
        lastStatusCode: d.lastStatusCode,
        lastError: d.lastError,
        createdAt: d.createdAt.toISOString(),
        lastAttemptAt: iso(d.lastAttemptAt),
        deliveredAt: iso(d.deliveredAt),
        payload: d.payload as Record<string, unknown>,
      })),
      nextCursor: rows.length > limit && last ? encodePageCursor(last) : null,
    };
  }
}
