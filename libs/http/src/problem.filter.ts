import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactUrl } from '@app/observability';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(reply, request, exception, this.logger);
  }
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, exception: unknown, logger: Logger): void {
  const problem = toProblem(exception);
  if (problem.status >= 500) logger.error({ err: exception, requestId: request.id, url: redactUrl(request.url) }, 'request failed');
  // Health probes answer their own JSON documents with 503 (terminus); keep those as they are.
  if (!reply.sent) {
    void reply
      .status(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send({ ...problem, instance: redactUrl(request.url)!.split('?')[0] });
  }
}
