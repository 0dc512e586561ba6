import { NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { toProblem } from './problem';

describe('toProblem', () => {
  it('renders a domain error with its stable code and public extras only', () => {
    const problem = toProblem(new DomainError('parts_missing', 'Parts 3 and 7 are missing', { missingParts: [3, 7], operation: 'ListParts' }));
    expect(problem).toEqual({
      type: 'https://upload-platform.dev/problems/parts-missing',
      title: 'Parts are missing',
      status: 409,
      detail: 'Parts 3 and 7 are missing',
      code: 'parts_missing',
      missingParts: [3, 7],
    });
  });

  it('maps Nest HTTP exceptions by status', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x'))).toMatchObject({ status: 404, code: 'not_found', detail: 'Cannot GET /x' });
    expect(toProblem(new PayloadTooLargeException())).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('maps Fastify errors raised before a handler (content type, malformed JSON) to 4xx', () => {
    expect(toProblem({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'Unsupported Media Type' })).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
    expect(toProblem({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: 'Body is not valid JSON' })).toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
  });

  it('answers anything unexpected with a 500 that reveals nothing internal', () => {
    const problem = toProblem(new Error('connection string postgresql://secret@db'));
    expect(problem).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(problem)).not.toContain('secret');
  });
});

describe('problemOf', () => {
  it('never lets extras override the RFC 9457 members', () => {
    const problem = toProblem(new DomainError('invalid_state', 'The upload is aborted.', { status: 'aborted', code: 'x', title: 'y' }));
    expect(problem).toMatchObject({ status: 409, code: 'invalid_state', title: 'Invalid state for this operation' });
  });
});
