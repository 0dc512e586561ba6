import { HttpException } from '@nestjs/common';
import { DomainError, ErrorCode, ErrorCodes, ProblemDocument } from '@app/contracts';

/** RFC 9457 problem details, with the platform's stable `code`: the contract's own shape. */
export type Problem = ProblemDocument;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://upload-platform.dev/problems/';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'dependency_unavailable',
};

export function problemOf(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  const { status, title } = ErrorCodes[code];
  // Extras never override the RFC 9457 members or the code.
  return { ...extra, type: `${TYPE_BASE}${code.replace(/_/g, '-')}`, title, status, detail, code };
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: unknown;
}

/**
 * The one place errors become HTTP answers. Domain errors keep their code; Nest and Fastify
 * errors (unknown route, malformed JSON, body too large, wrong content type) map by status;
 * anything else is a 500 whose detail reveals nothing internal.
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof DomainError) {
    // Internal context (operation names, SDK error names) is for logs, not for clients.
    const { operation: _op, storageError: _se, storageStatus: _ss, ...publicExtra } = error.extra;
    return problemOf(error.code, error.detail, publicExtra);
  }
  const zodIssues = zodIssuesOf(error);
  if (zodIssues) {
    const errors = zodIssues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }));
    return problemOf('validation_failed', `The request is invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`.slice(0, 1_000), { errors });
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? error.message);
    const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : JSON.stringify(message);
    return { ...problemOf(STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed'), detail), status };
  }
  const fe = error as FastifyLikeError;
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = STATUS_CODES[fe.statusCode] ?? 'validation_failed';
    return { ...problemOf(code, fe.message ?? ErrorCodes[code].title), status: fe.statusCode };
  }
  return problemOf('internal_error', 'An unexpected error occurred; it has been logged.');
}

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** The issues of a nestjs-zod validation failure (ZodValidationException.getZodError()). */
function zodIssuesOf(error: unknown): ZodIssueLike[] | null {
  if (!(error instanceof HttpException) || !('getZodError' in error) || typeof error.getZodError !== 'function') return null;
  const zodError = (error.getZodError as () => unknown)() as { issues?: ZodIssueLike[] } | undefined;
  return Array.isArray(zodError?.issues) ? zodError.issues : null;
}
