import { ConfigError } from '@app/config';
import type { StorageEnv } from '@app/config';

/**
 * SSE-KMS as every write names it (issue #15, docs/adr/0024-private-bucket.md): the key is signed
 * into upload URLs and POST policies and sent on CreateMultipartUpload and the services' own puts
 * and copies, so an object is encrypted with the platform's key even where the bucket's default
 * encryption drifted, and a bucket policy may refuse writes naming another key.
 *
 * SSE-S3 (`S3_SSE=AES256`) names nothing: the bucket's default encryption applies to every write
 * without a header (and AWS encrypts new objects with SSE-S3 even without one), so signing
 * `x-amz-server-side-encryption: AES256` would only add a header every client must send.
 */
export interface ObjectEncryption {
  algorithm: 'aws:kms';
  kmsKeyId: string;
}

/** The request headers (and POST form fields: S3 names them alike) of SSE-KMS. */
export const SSE_HEADER = 'x-amz-server-side-encryption';
export const SSE_KMS_KEY_HEADER = 'x-amz-server-side-encryption-aws-kms-key-id';

export function sseHeaders(encryption: ObjectEncryption | undefined): Record<string, string> {
  return encryption ? { [SSE_HEADER]: encryption.algorithm, [SSE_KMS_KEY_HEADER]: encryption.kmsKeyId } : {};
}

/** A configuration problem: the variable to change, and why. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export const problemLines = (problems: ConfigProblem[]): string[] => problems.map((p) => `${p.variable}: ${p.message}`);

/** Why S3_SSE and S3_SSE_KMS_KEY_ID do not fit together (none: they do). */
export function encryptionProblems(config: Pick<StorageEnv, 'S3_SSE' | 'S3_SSE_KMS_KEY_ID'>): ConfigProblem[] {
  if (config.S3_SSE === 'aws:kms' && !config.S3_SSE_KMS_KEY_ID) return [{ variable: 'S3_SSE_KMS_KEY_ID', message: 'is required with S3_SSE=aws:kms' }];
  if (config.S3_SSE !== 'aws:kms' && config.S3_SSE_KMS_KEY_ID)
    return [{ variable: 'S3_SSE_KMS_KEY_ID', message: `is only used with S3_SSE=aws:kms (S3_SSE is ${config.S3_SSE}): set S3_SSE=aws:kms, or unset the key` }];
  return [];
}

/**
 * What writes name for the configured encryption: SSE-KMS's key, or nothing (see ObjectEncryption).
 * A service whose schema did not already refuse a bad pair (refineStorageEnv) fails here, at boot.
 */
export function objectEncryption(config: Pick<StorageEnv, 'S3_SSE' | 'S3_SSE_KMS_KEY_ID'>): ObjectEncryption | undefined {
  const problems = encryptionProblems(config);
  if (problems.length) throw new ConfigError(problemLines(problems));
  return config.S3_SSE === 'aws:kms' ? { algorithm: 'aws:kms', kmsKeyId: config.S3_SSE_KMS_KEY_ID! } : undefined;
}
