import {
  DeleteBucketPolicyCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DomainError } from '@app/contracts';
import { bucketDrift, BucketDrift, BucketSetting, managedSettings, ObservedBucket, ObservedEncryption } from './bucket-drift';
import {
  BucketPosture,
  corsRule,
  lifecycleRule,
  mergedPolicy,
  parsePolicy,
  PolicyDocument,
  PUBLIC_ACCESS_FLAGS,
  PublicAccessBlock,
  samePolicy,
} from './bucket-posture';
import { fromStorageError } from './errors';

/**
 * Sets the bucket's settings to its posture: Block Public Access, default encryption, the
 * platform's policy statements (others kept), CORS and the lifecycle rule. Idempotent: a bucket
 * already there is left as it is (the policy is written only when it would change). Settings the
 * posture does not manage (`null`) are not touched: in particular no DeleteBucketEncryption, which
 * Ceph RGW 16 takes for DeleteBucket (docs/storage-compatibility.md).
 *
 * The public-access block goes first, so no policy is ever in place on a bucket that would not
 * refuse a public one; the policy goes last, so its denies cannot stand in the way of the rest.
 */
export async function applyBucketPosture(s3: S3Client, posture: BucketPosture): Promise<void> {
  const Bucket = posture.bucket;
  const block = posture.publicAccessBlock;
  if (block) {
    await step('PutPublicAccessBlock', 'S3_BLOCK_PUBLIC_ACCESS=none for storage without Block Public Access', () =>
      s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: block })),
    );
  }
  if (posture.encryption) {
    const kms = posture.encryption.algorithm === 'aws:kms' ? posture.encryption : null;
    await step('PutBucketEncryption', 'S3_SSE=none for storage without a bucket encryption API, such as Ceph RGW 16', () =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              {
                ApplyServerSideEncryptionByDefault: kms ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kms.kmsKeyId } : { SSEAlgorithm: 'AES256' },
                // S3 Bucket Keys: one KMS data key per bucket for a while instead of a KMS request
                // per object (AWS: up to 99% fewer KMS calls); meaningless for SSE-S3.
                BucketKeyEnabled: Boolean(kms),
              },
            ],
          },
        }),
      ),
    );
  }
  await step('PutBucketCors', null, () => s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [corsRule(posture)] } })));
  await step('PutBucketLifecycleConfiguration', null, () =>
    s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [lifecycleRule(posture)] } })),
  );

  const current = await step('GetBucketPolicy', null, () => readPolicy(s3, Bucket));
  const next = mergedPolicy(current, posture);
  if (!next && current) await step('DeleteBucketPolicy', null, () => s3.send(new DeleteBucketPolicyCommand({ Bucket })));
  else if (next && !samePolicy(next.Statement, current?.Statement ?? []))
    await step(
      'PutBucketPolicy',
      `the policy (${next.Statement.map((st) => st.Sid ?? 'a statement without Sid').join(', ')}) was refused: under BlockPublicPolicy a store refuses what it counts as public (Ceph RGW 16 counts CloudFront's service principal so)`,
      () => s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(next) })),
    );
}

/** One call of the bootstrap, its failure said with the operation and, where one helps, what to change. */
async function step<T>(operation: string, hint: string | null, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const coded = fromStorageError(error, operation);
    // A refusal (not an outage) of a setting some stores lack: say which variable turns it off.
    throw hint && coded.code === 'storage_error' ? new DomainError(coded.code, `${coded.detail}; ${hint}`, coded.extra, { cause: error }) : coded;
  }
}

/** A setting storage could not be asked about (no permission, storage down), with why. */
export interface UnreadableSetting {
  setting: BucketSetting;
  code: string;
  message: string;
}

export interface BucketPostureReport {
  bucket: string;
  /** The settings read and compared. */
  checked: BucketSetting[];
  drift: BucketDrift[];
  unreadable: UnreadableSetting[];
}

/**
 * Reads the bucket's settings back and compares them with its posture (chunk-tracker, at start).
 * Read-only: it never changes a setting, whatever it finds.
 */
export class BucketPostureInspector {
  constructor(
    private readonly s3: S3Client,
    readonly posture: BucketPosture,
  ) {}

  async inspect(): Promise<BucketPostureReport> {
    const observed: ObservedBucket = {};
    const unreadable: UnreadableSetting[] = [];
    const checked: BucketSetting[] = [];
    await Promise.all(
      managedSettings(this.posture).map(async (setting) => {
        try {
          await READERS[setting](this.s3, this.posture.bucket, observed);
          checked.push(setting);
        } catch (error) {
          const coded = fromStorageError(error, `read ${setting}`);
          unreadable.push({ setting, code: coded.code, message: coded.message });
        }
      }),
    );
    return { bucket: this.posture.bucket, checked: checked.sort(), drift: bucketDrift(this.posture, observed), unreadable };
  }
}

/** S3's answers for "this bucket has none of it" (rather than a failure to read it). */
const isAbsent = (error: unknown, ...names: string[]) => names.includes((error as { name?: string }).name ?? '');

const READERS: Record<BucketSetting, (s3: S3Client, Bucket: string, into: ObservedBucket) => Promise<void>> = {
  'public-access-block': async (s3, Bucket, into) => {
    try {
      const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket }));
      const c = out.PublicAccessBlockConfiguration ?? {};
      into.publicAccessBlock = Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((flag) => [flag, c[flag] === true])) as PublicAccessBlock;
    } catch (error) {
      if (!isAbsent(error, 'NoSuchPublicAccessBlockConfiguration')) throw error;
      into.publicAccessBlock = null;
    }
  },
  encryption: async (s3, Bucket, into) => {
    try {
      const out = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
      const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0];
      const byDefault = rule?.ApplyServerSideEncryptionByDefault;
      into.encryption = byDefault?.SSEAlgorithm
        ? ({ algorithm: byDefault.SSEAlgorithm, kmsKeyId: byDefault.KMSMasterKeyID, bucketKeyEnabled: rule?.BucketKeyEnabled } satisfies ObservedEncryption)
        : null;
    } catch (error) {
      if (!isAbsent(error, 'ServerSideEncryptionConfigurationNotFoundError')) throw error;
      into.encryption = null;
    }
  },
  policy: async (s3, Bucket, into) => {
    into.policy = await readPolicy(s3, Bucket);
  },
  cors: async (s3, Bucket, into) => {
    try {
      into.corsRules = (await s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules ?? [];
    } catch (error) {
      if (!isAbsent(error, 'NoSuchCORSConfiguration')) throw error;
      into.corsRules = [];
    }
  },
  lifecycle: async (s3, Bucket, into) => {
    try {
      into.lifecycleRules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
    } catch (error) {
      if (!isAbsent(error, 'NoSuchLifecycleConfiguration')) throw error;
      into.lifecycleRules = [];
    }
  },
};

/** The bucket's policy, or null when it has none. */
async function readPolicy(s3: S3Client, Bucket: string): Promise<PolicyDocument | null> {
  try {
    const out = await s3.send(new GetBucketPolicyCommand({ Bucket }));
    return out.Policy ? parsePolicy(out.Policy) : null;
  } catch (error) {
    if (isAbsent(error, 'NoSuchBucketPolicy')) return null;
    throw error;
  }
}
