import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { completeUploadBody, createUploadBody, partUrl, reportPartBody, signPartsBody, uploadQuery, uploadView } from '@app/contracts';
import { Access, Scope } from '@app/auth';
import { IdPipe } from '@app/http';
import type { OwnerScope } from '@app/auth';
import { UploadsService } from './uploads.service';

class CreateUploadDto extends createZodDto(createUploadBody) {}
class SignPartsDto extends createZodDto(signPartsBody) {}
class ReportPartDto extends createZodDto(reportPartBody) {}
class CompleteUploadDto extends createZodDto(completeUploadBody) {}
class UploadViewDto extends createZodDto(uploadView) {}
class UploadQueryDto extends createZodDto(uploadQuery) {}
class PartUrlsDto extends createZodDto(z.object({ parts: z.array(partUrl) })) {}

@ApiTags('uploads')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Owner-Id', required: false, description: 'With a tenant API key: the owner the call acts for' })
@Access('owner')
@Controller('v1/uploads')
export class UploadsController {
  constructor(private readonly uploads: UploadsService) {}

  /** Metadata in, presigned URL(s) out: one PUT for small files, the first batch of part URLs for large ones. */
  @Post()
  @HttpCode(201)
  @ApiResponse({ status: 201, description: 'Single: { upload: { method, url, headers } }. Multipart: { partSize, partCount, parts: PartUrl[] }' })
  @ApiResponse({
    status: 200,
    description: 'Instant upload: { id, status: "ready", deduplicated: true } (the sha256 matched a stored file in scope; no bytes to send)',
  })
  @ApiResponse({ status: 403, description: 'quota_exceeded' })
  @ApiResponse({ status: 413, description: 'file_too_large' })
  @ApiResponse({ status: 415, description: 'type_not_allowed' })
  async initiate(@Scope() scope: OwnerScope, @Body() body: CreateUploadDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.uploads.initiate(scope, body);
    if ('deduplicated' in result) void reply.status(200);
    return result;
  }

  /** Signs part URLs lazily, up to 1,000 per call. */
  @Post(':id/parts')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: PartUrlsDto })
  signParts(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Body() body: SignPartsDto) {
    return this.uploads.signParts(scope, id, body);
  }

  /** Optional progress report of one uploaded part. */
  @Put(':id/parts/:n')
  @HttpCode(204)
  async reportPart(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Param('n', ParseIntPipe) n: number, @Body() body: ReportPartDto) {
    await this.uploads.reportPart(scope, id, n, body);
  }

  /**
   * The upload, with the parts storage holds: resume by sending only what is missing.
   * `?parts=ledger` answers from the part ledger without asking storage (for status polling).
   */
  @Get(':id')
  @ApiResponse({ status: 200, type: UploadViewDto })
  get(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Query() query: UploadQueryDto) {
    return this.uploads.get(scope, id, query);
  }

  /** Checks the parts and starts completion (202); 200 with the upload if it is already past completion. */
  @Post(':id/complete')
  @ApiResponse({ status: 202, description: '{ id, status: "completing" }' })
  @ApiResponse({ status: 200, type: UploadViewDto })
  @ApiResponse({ status: 409, description: 'parts_missing, part_mismatch or invalid_state' })
  async complete(
    @Scope() scope: OwnerScope,
    @Param('id', IdPipe) id: string,
    @Body() body: CompleteUploadDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.uploads.complete(scope, id, body);
    void reply.status(result.status);
    return result.body;
  }

  /** Aborts the upload and releases its quota. */
  @Delete(':id')
  @HttpCode(204)
  async abort(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    await this.uploads.abort(scope, id);
  }
}
