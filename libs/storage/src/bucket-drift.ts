// Drift: how a bucket differs from its posture (bucket-posture.ts), from what storage answered
// for each setting. Read-only by design: chunk-tracker reports drift at start; only the storage
// bootstrap changes a bucket's settings (docs/adr/0024-private-bucket.md). No I/O here.

import {
  ABORT_INCOMPLETE_RULE_ID,
  BucketEncryption,
  BucketPosture,
  corsRule,
  CorsRule,
  lifecycleRule,
  LifecycleRule,
  PLATFORM_STATEMENT_IDS,
  PolicyDocument,
  PUBLIC_ACCESS_FLAGS,
  PublicAccessBlock,
  samePolicy,
} from './bucket-posture';

export type BucketSetting = 'public-access-block' | 'encryption' | 'policy' | 'cors' | 'lifecycle';
export const BUCKET_SETTINGS: readonly BucketSetting[] = ['public-access-block', 'encryption', 'policy', 'cors', 'lifecycle'];

export interface BucketDrift {
  setting: BucketSetting;
  /** What differs, in a sentence for the log. */
  problem: string;
  expected: unknown;
  actual: unknown;
}

/** A bucket's default encryption as storage reports it. */
export interface ObservedEncryption {
  algorithm: string;
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
}

/**
 * What storage answered for each setting (undefined: not read). null: the bucket has none of it
 * (no public-access block, no default encryption, no policy).
 */
export interface ObservedBucket {
  publicAccessBlock?: PublicAccessBlock | null;
  encryption?: ObservedEncryption | null;
  policy?: PolicyDocument | null;
  corsRules?: CorsRule[];
  lifecycleRules?: LifecycleRule[];
}

/** Which settings the posture has an opinion on (the others are not managed, so not read). */
export function managedSettings(posture: BucketPosture): BucketSetting[] {
  return BUCKET_SETTINGS.filter(
    (setting) => !(setting === 'public-access-block' && !posture.publicAccessBlock) && !(setting === 'encryption' && !posture.encryption),
  );
}

/** Every way the bucket differs from the posture, for the settings that were read. */
export function bucketDrift(posture: BucketPosture, observed: ObservedBucket): BucketDrift[] {
  const drift: BucketDrift[] = [];
  const add = (setting: BucketSetting, problem: string, expected: unknown, actual: unknown) => drift.push({ setting, problem, expected, actual });

  if (posture.publicAccessBlock && observed.publicAccessBlock !== undefined) {
    // No configuration at all blocks nothing (AWS answers NoSuchPublicAccessBlockConfiguration).
    const actual = observed.publicAccessBlock ?? (Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((f) => [f, false])) as PublicAccessBlock);
    const off = PUBLIC_ACCESS_FLAGS.filter((flag) => actual[flag] !== posture.publicAccessBlock![flag]);
    if (off.length)
      add(
        'public-access-block',
        `${off.map((flag) => `${flag} is ${actual[flag]}`).join(', ')}; the bootstrap sets ${off.map((flag) => posture.publicAccessBlock![flag]).join(', ')}`,
        posture.publicAccessBlock,
        observed.publicAccessBlock,
      );
  }

  if (posture.encryption && observed.encryption !== undefined) {
    const problem = encryptionDrift(posture.encryption, observed.encryption);
    if (problem) add('encryption', problem, posture.encryption, observed.encryption);
  }

  if (observed.policy !== undefined) {
    const present = (observed.policy?.Statement ?? []).filter((s) => PLATFORM_STATEMENT_IDS.includes(s.Sid ?? ''));
    for (const expected of posture.policyStatements) {
      const actual = present.find((s) => s.Sid === expected.Sid);
      if (!actual) add('policy', `statement ${expected.Sid} is missing`, expected, null);
      else if (!samePolicy(actual, expected)) add('policy', `statement ${expected.Sid} differs from what the bootstrap sets`, expected, actual);
    }
    for (const actual of present.filter((s) => !posture.policyStatements.some((e) => e.Sid === s.Sid)))
      add('policy', `statement ${actual.Sid} is there, but this configuration sets none`, null, actual);
  }

  if (observed.corsRules !== undefined) {
    const expected = corsRule(posture);
    if (!observed.corsRules.some((rule) => samePolicy(corsShape(rule), corsShape(expected))))
      add('cors', 'no CORS rule is the one the bootstrap sets (methods, origins, headers, exposed headers, max age)', expected, observed.corsRules);
  }

  if (observed.lifecycleRules !== undefined) {
    const expected = lifecycleRule(posture);
    const actual = observed.lifecycleRules.find((rule) => rule.ID === ABORT_INCOMPLETE_RULE_ID);
    if (!actual) add('lifecycle', `rule ${ABORT_INCOMPLETE_RULE_ID} is missing`, expected, observed.lifecycleRules);
    else if (
      actual.Status !== expected.Status ||
      (actual.Filter?.Prefix ?? actual.Prefix) !== expected.Filter.Prefix ||
      actual.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== expected.AbortIncompleteMultipartUpload.DaysAfterInitiation
    )
      add('lifecycle', `rule ${ABORT_INCOMPLETE_RULE_ID} differs from what the bootstrap sets`, expected, actual);
  }
  return drift;
}

function encryptionDrift(expected: BucketEncryption, actual: ObservedEncryption | null): string | null {
  if (!actual) return `no default encryption; the bootstrap sets ${expected.algorithm}`;
  if (actual.algorithm !== expected.algorithm) return `default encryption is ${actual.algorithm}; the bootstrap sets ${expected.algorithm}`;
  if (expected.algorithm !== 'aws:kms') return null;
  if (!sameKmsKey(actual.kmsKeyId, expected.kmsKeyId))
    return `default encryption uses KMS key ${actual.kmsKeyId ?? '(the AWS managed key)'}; the bootstrap sets ${expected.kmsKeyId}`;
  if (!actual.bucketKeyEnabled) return 'S3 Bucket Keys are off (every object then costs KMS requests); the bootstrap turns them on';
  return null;
}

/** A key named by its ARN or by its bare id is the same key (storage may answer either form). */
function sameKmsKey(actual: string | undefined, expected: string): boolean {
  if (!actual) return false;
  return actual === expected || actual.endsWith(`:key/${expected}`) || expected.endsWith(`:key/${actual}`);
}

/** A CORS rule as a set of values: stores reorder methods (RGW) and drop empty lists. */
function corsShape(rule: CorsRule) {
  return {
    methods: [...(rule.AllowedMethods ?? [])].sort(),
    origins: [...(rule.AllowedOrigins ?? [])].sort(),
    headers: [...(rule.AllowedHeaders ?? [])].sort(),
    expose: [...(rule.ExposeHeaders ?? [])].map((h) => h.toLowerCase()).sort(),
    maxAge: rule.MaxAgeSeconds ?? null,
  };
}
