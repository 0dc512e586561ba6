import { Controller, Delete, Get, HttpCode, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createZodDto } from 'nestjs-zod';
import { contentQuery, fileList, fileView, listFilesQuery } from '@app/contracts';
import { Access, Scope } from '@app/auth';
import type { OwnerScope } from '@app/auth';
import { IdPipe } from '@app/http';
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

  /** The owner's files, newest first. */
  @Get()
  @ApiResponse({ status: 200, type: FileListDto })
  list(@Scope() scope: OwnerScope, @Query() query: ListFilesQueryDto) {
    return this.files.list(scope, query);
  }

  @Get(':id')
  @ApiResponse({ status: 200, type: FileViewDto })
  get(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    return this.files.get(scope, id);
  }

  /** 302 to a short-lived presigned GET of the file (or a variant). */
  @Get(':id/content')
  @ApiResponse({ status: 302, description: 'Location: a presigned GET valid for 5 minutes' })
  async content(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string, @Query() query: ContentQueryDto, @Res() reply: FastifyReply) {
    const url = await this.files.contentUrl(scope, id, query);
    void reply.header('cache-control', 'private, no-store').redirect(url, 302);
  }

  /** Removes the object and its variants and frees the quota. */
  @Delete(':id')
  @HttpCode(204)
  async delete(@Scope() scope: OwnerScope, @Param('id', IdPipe) id: string) {
    await this.files.delete(scope, id);
  }
}
