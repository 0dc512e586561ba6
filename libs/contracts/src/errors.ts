/**
 * Stable machine codes of every error the platform reports. Clients switch on these; the HTTP
 * layer maps each to a status and an RFC 9457 problem document in one place (@app/http).
 */
export const ErrorCodes = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  unauthorized: { status: 401, title: 'Missing or invalid credentials' },
  forbidden: { status: 403, title: 'Not allowed' },
  quota_exceeded: { status: 403, title: 'Storage quota exceeded' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  invalid_state: { status: 409, title: 'Invalid state for this operation' },
  parts_missing: { status: 409, title: 'Parts are missing' },
  part_mismatch: { status: 409, title: 'Part does not match storage' },
  conflict: { status: 409, title: 'Conflict' },
  cursor_expired: { status: 410, title: 'Cursor older than the retained history' },
  upload_lost: { status: 410, title: 'Storage no longer holds this upload' },
  too_many_connections: { status: 429, title: 'Too many connections' },
  file_too_large: { status: 413, title: 'File too large' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  type_not_allowed: { status: 415, title: 'Content type not allowed' },
  unsupported_media_type: { status: 415, title: 'Unsupported request media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  storage_unavailable: { status: 503, title: 'Storage is unavailable' },
  storage_error: { status: 502, title: 'Storage error' },
  dependency_unavailable: { status: 503, title: 'A dependency is unavailable' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** A field-level problem, listed in validation errors. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one error type the platform's own code throws. Adapters turn SDK errors into these;
 * services throw them for rule violations; the HTTP filter renders them.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    /** Extra members of the problem document (e.g. `missingParts`), or of a log line. */
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'DomainError';
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  /** True for failures worth retrying (an unavailable dependency), false for bad input or state. */
  get transient(): boolean {
    return this.code === 'storage_unavailable' || this.code === 'dependency_unavailable';
  }
}
