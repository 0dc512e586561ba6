import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { jobList, listJobsQuery, reprocessAccepted, reprocessBody } from '@app/contracts';
import { Access } from '@app/auth';
import { OperationsService } from './operations.service';

class ReprocessDto extends createZodDto(reprocessBody) {}
class ReprocessAcceptedDto extends createZodDto(reprocessAccepted) {}
class ListJobsQueryDto extends createZodDto(listJobsQuery) {}
class JobListDto extends createZodDto(jobList) {}

@ApiTags('admin')
@ApiBearerAuth()
@Access('admin')
@Controller('v1/admin')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  /**
   * Re-runs processing of one file, or (without `fileId`) of every ready or failed media file
   * missing a variant. Asynchronous: the answer names the job doing it.
   */
  @Post('reprocess')
  @HttpCode(202)
  @ApiResponse({ status: 202, type: ReprocessAcceptedDto })
  reprocess(@Body() body: ReprocessDto) {
    return this.operations.reprocess(body);
  }

  /** Jobs of every queue (or one), newest first: failed ones by default, with their reasons. */
  @Get('jobs')
  @ApiResponse({ status: 200, type: JobListDto })
  listJobs(@Query() query: ListJobsQueryDto) {
    return this.operations.listJobs(query);
  }

  /** Puts a failed job back in its queue. */
  @Post('jobs/:queue/:id/retry')
  @HttpCode(202)
  @ApiResponse({ status: 202, type: ReprocessAcceptedDto })
  retryJob(@Param('queue') queue: string, @Param('id') id: string) {
    return this.operations.retryJob(queue, id);
  }
}
