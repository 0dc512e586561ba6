import { DomainError } from '@app/contracts';

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchBucket', 'AWS.SimpleQueueService.NonExistentQueue', 'QueueDoesNotExist']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout']);

/**
 * Turns an AWS SDK (S3/SQS) error into the platform's coded error, so services never see SDK
 * types: missing things are `not_found`; throttling, 5xx and network failures are
 * `storage_unavailable` (transient, retried by jobs); the rest is `storage_error`.
 */
export function fromStorageError(error: unknown, operation: string): DomainError {
  if (error instanceof DomainError) return error;
  const e = (error ?? {}) as SdkErrorShape & Error;
  const name = e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const extra = { operation, storageError: name, storageStatus: status };
  if (NOT_FOUND.has(name) || status === 404) {
    return new DomainError('not_found', `${operation}: ${name}`, extra, { cause: error });
  }
  if (
    NETWORK.has(name) ||
    NETWORK.has(e.code ?? '') ||
    e.$fault === 'server' ||
    e.$retryable ||
    (status !== undefined && (status >= 500 || status === 429 || status === 503))
  ) {
    return new DomainError('storage_unavailable', `${operation}: ${name}`, extra, { cause: error });
  }
  return new DomainError('storage_error', `${operation}: ${name}${e.message ? ` (${e.message})` : ''}`, extra, { cause: error });
}
