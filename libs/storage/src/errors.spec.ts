import { DomainError } from '@app/contracts';
import { fromStorageError } from './errors';

const sdkError = (name: string, status?: number, fault?: 'client' | 'server') =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('fromStorageError', () => {
  it.each([
    ['NoSuchKey', 404, 'not_found'],
    ['NoSuchUpload', 404, 'not_found'],
    ['NotFound', 404, 'not_found'],
    ['SlowDown', 503, 'storage_unavailable'],
    ['InternalError', 500, 'storage_unavailable'],
    ['AccessDenied', 403, 'storage_error'],
    ['InvalidPart', 400, 'storage_error'],
  ])('maps %s (%i) to %s', (name, status, code) => {
    const mapped = fromStorageError(sdkError(name, status), 'Op');
    expect(mapped).toBeInstanceOf(DomainError);
    expect(mapped.code).toBe(code);
    expect(mapped.extra).toMatchObject({ operation: 'Op', storageError: name, storageStatus: status });
  });

  it('treats network failures as transient', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const mapped = fromStorageError(refused, 'HeadBucket');
    expect(mapped.code).toBe('storage_unavailable');
    expect(mapped.transient).toBe(true);
  });

  it('keeps the SDK error as the cause for logs', () => {
    const original = sdkError('AccessDenied', 403);
    expect(fromStorageError(original, 'Op').cause).toBe(original);
  });
});
