import { Controller, Delete, Get, HttpCode, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { contentQuery, fileList, fileView, listFilesQuery } from '@app/contracts';
import { Access, Scope } from '@app/auth';
import type { OwnerScope } from '@app/auth';
import { IdPipe, Problems } from '@app/http';
import { FilesService } from './files.service';

class ListFilesQueryDto extends createZodDto(listFilesQuery) {}
class ContentQueryDto extends createZodDto(contentQuery) {}
class FileViewDto extends createZodDto(fileView) {}
class FileListDto extends createZodDto(fileList) {}

@ApiTags('files')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Owner-Id', required: false, description: 'With a tenant API key: the owner the call acts for' })
@Access('owner')
@Controller('v1/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  /** The owner's stored files, newest first, in pages; optionally narrowed by status, type, name prefix and creation time. */
  @Get()
  @ApiOperation({
    summary: "List the owner's files",
    description:
      'Newest first, keyset-paginated. Filters apply together: `status` (comma list of stored statuses), `contentType` (exact, or `image/` for a whole type), `filename` (case-insensitive prefix), `createdAfter` (inclusive) and `createdBefore` (exclusive). A cursor is valid only with the filters it was issued with.',
  })
  @ZodResponse({ status: 200, type: FileListDto, description: 'A page of files and the cursor of the next one (null on the last page)' })
  list(@Scope() scope: OwnerScope, @Query() query: ListFilesQueryDto) {
    return this.files.list(scope, query);
  }

  /** One file: its status, what verification found, its variants. */
  @Get(':id')
  @ApiOperation({ summary: 'Read a file', description: 'Its status, size, detected type, sha256 once verified, dimensions and variants.' })
  @ZodResponse({ status: 200, type: FileViewDto, description: 'The file' })
  get(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    return this.files.get(scope, id);
  }

  /** 302 to where the bytes are served: the CDN when one is configured, else a presigned storage GET. */
  @Get(':id/content')
  @ApiOperation({
    summary: 'Download a file',
    description:
      "Redirects to the file's bytes, or one of its variants' (`variant`), through the CDN when one is configured. The original (and a variant with `disposition=attachment`) gets a private link valid for CDN_ORIGINAL_LINK_SECONDS (5 minutes by default), served with a safe Content-Disposition; a variant shown inline gets its cacheable link, the same for a whole window (docs/delivery.md).",
  })
  @ApiResponse({ status: 302, description: 'Location: a signed link to the bytes (CDN or storage)' })
  @Problems('invalid_state', 'storage_unavailable')
  async content(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Query() query: ContentQueryDto, @Res() reply: FastifyReply) {
    const url = await this.files.contentUrl(scope, id, query);
    void reply.header('cache-control', 'private, no-store').redirect(url, 302);
  }

  /** Removes the object and its variants and frees the quota. */
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a file', description: 'Removes the object and its variants and frees the quota; the owner and webhooks are told.' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @Problems('invalid_state')
  async delete(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    await this.files.delete(scope, id);
  }
}
