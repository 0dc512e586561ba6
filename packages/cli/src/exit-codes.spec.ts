import { UploadApiError } from '@app/sdk';
import { batchExitCode, ExitCode, exitCodeFor, UsageError } from './exit-codes';

const apiError = (status: number, code: string) => new UploadApiError(status, code, `${code} detail`);

describe('exit codes', () => {
  it.each([
    ['a refused credential (401)', apiError(401, 'unauthorized'), ExitCode.auth],
    ['a credential of the wrong kind (403 forbidden)', apiError(403, 'forbidden'), ExitCode.auth],
    ['an exceeded quota (403, but not about the credential)', apiError(403, 'quota_exceeded'), ExitCode.failure],
    ['an unknown id (404)', apiError(404, 'not_found'), ExitCode.notFound],
    ['a request the API found invalid (400)', apiError(400, 'validation_failed'), ExitCode.usage],
    ['a conflict (409)', apiError(409, 'invalid_state'), ExitCode.failure],
    ['a server error (503)', apiError(503, 'storage_unavailable'), ExitCode.failure],
    ['a usage mistake caught locally', new UsageError('no --url'), ExitCode.usage],
    ['a network failure', new TypeError('fetch failed'), ExitCode.failure],
    ['anything else', new Error('boom'), ExitCode.failure],
  ])('%s → %i', (_, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('a batch with no failures exits 0', () => {
    expect(batchExitCode([])).toBe(ExitCode.ok);
  });

  it('a batch whose failures are all unknown ids exits 4, all refused credentials 3', () => {
    expect(batchExitCode([apiError(404, 'not_found'), apiError(404, 'not_found')])).toBe(ExitCode.notFound);
    expect(batchExitCode([apiError(401, 'unauthorized')])).toBe(ExitCode.auth);
  });

  it('a batch with mixed failures is a partial failure: 1', () => {
    expect(batchExitCode([apiError(404, 'not_found'), apiError(401, 'unauthorized')])).toBe(ExitCode.failure);
    expect(batchExitCode([apiError(404, 'not_found'), new Error('disk full')])).toBe(ExitCode.failure);
  });

  it('usage errors in a batch do not become exit 2 (the command itself was well formed)', () => {
    expect(batchExitCode([apiError(400, 'validation_failed')])).toBe(ExitCode.failure);
  });
});
