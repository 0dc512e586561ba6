import { UploadApiError } from '@app/sdk';

/**
 * What `upl` exits with, for scripts (README, "Exit codes"; also in `upl --help`). One home for
 * the mapping, so every command answers the same way.
 */
export const ExitCode = {
  ok: 0,
  /** Some files or operations failed (storage, network, server, a conflict). */
  failure: 1,
  /** Bad flags or arguments, missing configuration, or a request the API refused as invalid (400). */
  usage: 2,
  /** The credential was refused: missing or invalid (401), or not allowed here (403 forbidden). */
  auth: 3,
  /** The file, upload, tenant or key does not exist (or belongs to someone else: the API answers 404). */
  notFound: 4,
  /** Stopped by Ctrl-C (SIGINT); what was sent is kept and the same command resumes it. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0    everything succeeded
  1    some files or operations failed
  2    usage error (bad flag or argument, missing --url/--token, a request the API refused as invalid)
  3    authentication or permission refused (HTTP 401, or 403 forbidden)
  4    not found (HTTP 404)
  130  interrupted (Ctrl-C); re-run the same command or \`upl resume\` to continue`;

/** A mistake of the person at the keyboard, caught before any request (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code one error stands for. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof UploadApiError) {
    if (error.status === 401 || error.code === 'unauthorized' || (error.status === 403 && error.code === 'forbidden')) return ExitCode.auth;
    if (error.status === 404) return ExitCode.notFound;
    if (error.status === 400) return ExitCode.usage;
  }
  return ExitCode.failure;
}

/**
 * The exit code of a command over many items (files, ids): 0 when none failed; when every failure
 * is of one kind that has its own code (all refused credentials, all unknown ids), that code, so
 * `upl rm <unknown>` exits 4 like `upl info <unknown>`; any other mix is a partial failure, 1.
 */
export function batchExitCode(failures: readonly unknown[]): ExitCodeValue {
  if (failures.length === 0) return ExitCode.ok;
  const codes = new Set(failures.map(exitCodeFor));
  if (codes.size === 1) {
    const [only] = codes;
    if (only === ExitCode.auth || only === ExitCode.notFound) return only;
  }
  return ExitCode.failure;
}
