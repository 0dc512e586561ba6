import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { createZodDto } from 'nestjs-zod';
import {
  companionBatchQuery,
  companionCompleteBody,
  companionCreateBody,
  companionKeyQuery,
  companionParamsQuery,
  companionPartParams,
  DomainError,
} from '@app/contracts';
import { Access, BrowserCredential, Scope } from '@app/auth';
import { IdPipe } from '@app/http';
import type { OwnerScope } from '@app/auth';
import { CompanionService } from './companion.service';

class ParamsQueryDto extends createZodDto(companionParamsQuery) {}
class CreateBodyDto extends createZodDto(companionCreateBody) {}
class KeyQueryDto extends createZodDto(companionKeyQuery) {}
class BatchQueryDto extends createZodDto(companionBatchQuery) {}
class PartParamsDto extends createZodDto(companionPartParams) {}
class CompleteBodyDto extends createZodDto(companionCompleteBody) {}

/**
 * Companion's S3 routes (transloadit/uppy, @uppy/companion `controllers/s3.js`), so Uppy uploads
 * here with no glue: Uppy 5 with `endpoint: <api>/companion` and an `Authorization` header, Uppy 6
 * (which sends no headers) with `companionEndpoint: <api>/companion/t/<user token>`, or a page of
 * the API's own origin with the session cookie (docs/companion.md, docs/adr/0022). Companion's
 * protocol is Uppy's contract, not the v1 API's, so it stays out of the OpenAPI document.
 */
@ApiExcludeController()
@Access('owner')
@BrowserCredential()
@Controller(['companion', 'companion/t/:userToken'])
export class CompanionController {
  constructor(private readonly companion: CompanionService) {}

  @Get('s3/params')
  params(@Scope() scope: OwnerScope, @Query() query: ParamsQueryDto) {
    return this.companion.uploadParameters(scope, query);
  }

  @Post('s3/multipart')
  @HttpCode(200)
  create(@Scope() scope: OwnerScope, @Body() body: CreateBodyDto) {
    return this.companion.createMultipart(scope, body);
  }

  @Get('s3/multipart/:uploadId')
  listParts(@Scope() scope: OwnerScope, @Param('uploadId', IdPipe) id: string, @Query() query: KeyQueryDto) {
    return this.companion.listParts(scope, id, query.key);
  }

  @Get('s3/multipart/:uploadId/batch')
  async signBatch(@Scope() scope: OwnerScope, @Param('uploadId', IdPipe) id: string, @Query() query: BatchQueryDto) {
    const parts = await this.companion.signParts(scope, id, query.key, query.partNumbers);
    return { presignedUrls: Object.fromEntries(parts.map((p) => [String(p.partNumber), p.url])) };
  }

  @Get('s3/multipart/:uploadId/:partNumber')
  async signPart(@Scope() scope: OwnerScope, @Param('uploadId', IdPipe) id: string, @Param() params: PartParamsDto, @Query() query: KeyQueryDto) {
    const [part] = await this.companion.signParts(scope, id, query.key, [params.partNumber]);
    return { url: part.url, expires: part.expires };
  }

  @Post('s3/multipart/:uploadId/complete')
  @HttpCode(200)
  complete(
    @Scope() scope: OwnerScope,
    @Param('uploadId', IdPipe) id: string,
    @Query() query: KeyQueryDto,
    @Body() body: CompleteBodyDto,
    @Req() request: FastifyRequest,
  ) {
    return this.companion.complete(scope, id, query.key, body, `${request.protocol}://${request.host}`);
  }

  @Delete('s3/multipart/:uploadId')
  abort(@Scope() scope: OwnerScope, @Param('uploadId', IdPipe) id: string, @Query() query: KeyQueryDto) {
    return this.companion.abort(scope, id, query.key);
  }

  /** Companion's temporary STS credentials: this platform signs each request and hands out none. */
  @Get('s3/sts')
  sts(): never {
    throw new DomainError('not_found', 'This server signs each request; it hands out no storage credentials. Use the signing routes (Uppy does by default).');
  }
}
