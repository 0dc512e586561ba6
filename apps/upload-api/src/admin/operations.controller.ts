import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { jobList, listJobsQuery, reprocessAccepted, reprocessBody } from '@app/contracts';
import { Access } from '@app/auth';
import { Problems } from '@app/http';
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
  @ApiOperation({
    summary: 'Reprocess files',
    description: 'Re-runs processing of one file, or of every ready or failed media file missing a variant. The answer names the job doing it.',
  })
  @ZodResponse({ status: 202, type: ReprocessAcceptedDto, description: 'Queued' })
  @Problems('not_found', 'invalid_state')
  reprocess(@Body() body: ReprocessDto) {
    return this.operations.reprocess(body);
  }

  /** Jobs of every queue (or one), newest first: failed ones by default, with their reasons. */
  @Get('jobs')
  @ApiOperation({ summary: 'List jobs', description: 'Jobs of every queue (or one), newest first: failed ones by default, with their reasons.' })
  @ZodResponse({ status: 200, type: JobListDto, description: 'The jobs' })
  @Problems('not_found')
  listJobs(@Query() query: ListJobsQueryDto) {
    return this.operations.listJobs(query);
  }

  /** Puts a failed job back in its queue. */
  @Post('jobs/:queue/:id/retry')
  @ApiOperation({ summary: 'Retry a failed job', description: 'Puts a failed job back in its queue.' })
  @ZodResponse({ status: 202, type: ReprocessAcceptedDto, description: 'Queued again' })
  @Problems('invalid_state')
  retryJob(@Param('queue') queue: string, @Param('id') id: string) {
    return this.operations.retryJob(queue, id);
  }
}
