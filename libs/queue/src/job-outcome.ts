/**
 * Thrown by a job handler when running the job again cannot help (a corrupt file, a payload that
 * names what no longer exists): the job fails at once, without its remaining retries, and stays
 * failed with this message for an operator to inspect and, once the cause is fixed, retry.
 */
export class PermanentJobFailure extends Error {
  override name = 'PermanentJobFailure';
}
