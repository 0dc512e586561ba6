/**
 * One outside system a service depends on (Postgres, Redis, S3, SQS). Each adapter library
 * provides its own; a service lists the ones it uses and /health/ready runs exactly those.
 */
export interface DependencyCheck {
  /** Key in the readiness document, e.g. "database", "redis", "s3", "sqs". */
  readonly name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<Record<string, unknown> | void>;
}

export const DEPENDENCY_CHECKS = Symbol('DEPENDENCY_CHECKS');
