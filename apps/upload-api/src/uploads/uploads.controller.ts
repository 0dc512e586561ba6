import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodResponse, ZodSerializerDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  completeUploadBody,
  createUploadBody,
  partUrlList,
  reportPartBody,
  signPartsBody,
  uploadCompleting,
  uploadCreated,
  uploadDeduplicated,
  uploadQuery,
  uploadView,
} from '@app/contracts';
import { Access, Scope } from '@app/auth';
import { IdPipe, Problems, schemaRef } from '@app/http';
import type { OwnerScope } from '@app/auth';
import { UploadsService } from './uploads.service';

class CreateUploadDto extends createZodDto(createUploadBody) {}
class SignPartsDto extends createZodDto(signPartsBody) {}
class ReportPartDto extends createZodDto(reportPartBody) {}
class CompleteUploadDto extends createZodDto(completeUploadBody) {}
class UploadViewDto extends createZodDto(uploadView) {}
class UploadQueryDto extends createZodDto(uploadQuery) {}
class PartUrlsDto extends createZodDto(partUrlList) {}
class UploadDeduplicatedDto extends createZodDto(uploadDeduplicated) {}
class UploadCompletingDto extends createZodDto(uploadCompleting) {}

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
  @ApiOperation({
    summary: 'Create an upload',
    description:
      'Reserves the quota and answers where to send the bytes: one presigned PUT for small files, the part plan and the first part URLs (`initialPartUrls`, default 100) for large ones, or for any size when the client declares its `partSize`. The plan is advice: parts of any size from 5 MiB (the last smaller) complete. With a `sha256` that matches a file already stored in scope, the file is copied at once (200, no bytes to send).',
  })
  @ApiResponse({ status: 201, schema: schemaRef(uploadCreated), description: 'Send the bytes to the URL(s) given' })
  @ApiResponse({ status: 200, type: UploadDeduplicatedDto, description: 'Instant upload: a stored file in scope has this sha256; nothing to send' })
  @ZodSerializerDto(z.union([uploadCreated, uploadDeduplicated]))
  @Problems('quota_exceeded', 'file_too_large', 'type_not_allowed', 'storage_unavailable', 'storage_error')
  async initiate(@Scope() scope: OwnerScope, @Body() body: CreateUploadDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.uploads.initiate(scope, body);
    if ('deduplicated' in result) void reply.status(200);
    return result;
  }

  /** Signs part URLs lazily, up to 1,000 per call. */
  @Post(':id/parts')
  @ApiOperation({
    summary: 'Sign part URLs',
    description:
      "Presigned PUT URLs for the given parts (up to 1,000 per call), with the checksums given signed in. Any part number from 1 to the upload's `maxPartNumber` (ceil(size / 5 MiB), at most 10,000): the client may choose its own part size.",
  })
  @ZodResponse({ status: 200, type: PartUrlsDto, description: 'One URL per part asked for' })
  @Problems('invalid_state')
  signParts(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Body() body: SignPartsDto) {
    return this.uploads.signParts(scope, id, body);
  }

  /** Optional progress report of one uploaded part. */
  @Put(':id/parts/:n')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Report an uploaded part',
    description: 'Optional: records a part the client sent (its ETag and size) in the part ledger, for progress views.',
  })
  @ApiResponse({ status: 204, description: 'Recorded' })
  @Problems('invalid_state')
  async reportPart(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Param('n', ParseIntPipe) n: number, @Body() body: ReportPartDto) {
    await this.uploads.reportPart(scope, id, n, body);
  }

  /**
   * The upload, with the parts storage holds: resume by sending only what is missing.
   * `?parts=ledger` answers from the part ledger without asking storage (for status polling).
   */
  @Get(':id')
  @ApiOperation({
    summary: 'Read an upload',
    description: 'Its status and the parts storage holds (resume by sending only the missing ones); `?parts=ledger` answers without asking storage.',
  })
  @ZodResponse({ status: 200, type: UploadViewDto, description: 'The upload' })
  @Problems('upload_lost')
  get(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Query() query: UploadQueryDto) {
    return this.uploads.get(scope, id, query);
  }

  /** Checks the parts and starts completion (202); 200 with the upload if it is already past completion. */
  @Post(':id/complete')
  @ApiOperation({
    summary: 'Complete an upload',
    description:
      'Checks the parts storage holds (numbered 1..k with none missing, every part but the last at least 5 MiB, adding up to the size, in whatever part size the client chose; any ETags sent) and asks storage to assemble the object. The file becomes `uploaded` when storage itself reports the object.',
  })
  @ApiResponse({ status: 202, type: UploadCompletingDto, description: 'Completion started' })
  @ApiResponse({ status: 200, type: UploadViewDto, description: 'Already past completion: the upload as it stands' })
  @ZodSerializerDto(z.union([uploadCompleting, uploadView]))
  @Problems('parts_missing', 'part_mismatch', 'invalid_state', 'upload_lost', 'storage_unavailable', 'storage_error')
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
  @ApiOperation({ summary: 'Abort an upload', description: 'Stops the upload, removes what storage holds of it and releases its quota. Idempotent.' })
  @ApiResponse({ status: 204, description: 'Aborted (or already ended)' })
  @Problems('invalid_state')
  async abort(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    await this.uploads.abort(scope, id);
  }
}
