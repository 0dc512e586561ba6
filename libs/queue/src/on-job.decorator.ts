import { SetMetadata } from '@nestjs/common';
import type { JobName, JobPayloads } from './registry';

export const ON_JOB = Symbol('ON_JOB');

export interface JobContext {
  id: string;
  attempt: number;
  /** Aborted when the worker is shutting down past its drain deadline. */
  signal: AbortSignal;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], context: JobContext) => Promise<unknown>;

/**
 * Marks a method as the handler of one job. The parameter type comes from the registry, so a
 * handler cannot disagree with the payload its producers send.
 */
export function OnJob<N extends JobName>(name: N) {
  return <H extends JobHandler<N>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<H>): void => {
    SetMetadata(ON_JOB, name)(target, key, descriptor);
  };
}
