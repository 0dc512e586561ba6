import { bucketDrift, managedSettings, ObservedBucket } from './bucket-drift';
import { BucketPosture, corsRule, lifecycleRule, PolicyStatement } from './bucket-posture';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALL_BLOCKED = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const DENY: PolicyStatement = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

const posture = (over: Partial<BucketPosture> = {}): BucketPosture => ({
  bucket: 'uploads',
  objectPrefix: 'uploads/',
  corsOrigins: ['https://app.example.com'],
  abortIncompleteAfterDays: 7,
  publicAccessBlock: ALL_BLOCKED,
  encryption: { algorithm: 'aws:kms', kmsKeyId: KEY },
  policyStatements: [DENY],
  ...over,
});

/** A bucket exactly as the bootstrap leaves it for `posture()`. */
const asBootstrapped = (): Required<ObservedBucket> => ({
  publicAccessBlock: ALL_BLOCKED,
  encryption: { algorithm: 'aws:kms', kmsKeyId: KEY, bucketKeyEnabled: true },
  policy: { Version: '2012-10-17', Statement: [DENY] },
  corsRules: [corsRule(posture())],
  lifecycleRules: [lifecycleRule(posture())],
});

const settingsOf = (observed: ObservedBucket, p = posture()) => bucketDrift(p, observed).map((d) => [d.setting, d.problem]);

describe('bucketDrift: how a bucket differs from its posture', () => {
  it('finds nothing in a bucket as the bootstrap left it, however storage reordered it', () => {
    const observed = asBootstrapped();
    observed.corsRules = [{ ...observed.corsRules[0], AllowedMethods: ['GET', 'PUT', 'HEAD', 'POST'] }];
    // Other rules and statements than the platform's are not its business.
    observed.lifecycleRules.push({ ID: 'expire-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' } });
    observed.policy!.Statement.push({ Sid: 'OrgRule', Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::uploads' });
    expect(bucketDrift(posture(), observed)).toEqual([]);
  });

  it('names the public-access flags that are off, and a bucket with no block at all', () => {
    expect(settingsOf({ publicAccessBlock: { ...ALL_BLOCKED, RestrictPublicBuckets: false } })).toEqual([
      ['public-access-block', 'RestrictPublicBuckets is false; the bootstrap sets true'],
    ]);
    expect(settingsOf({ publicAccessBlock: null })).toEqual([
      [
        'public-access-block',
        'BlockPublicAcls is false, IgnorePublicAcls is false, BlockPublicPolicy is false, RestrictPublicBuckets is false; the bootstrap sets true, true, true, true',
      ],
    ]);
  });

  it('names missing or other default encryption, another KMS key, and S3 Bucket Keys off', () => {
    expect(settingsOf({ encryption: null })).toEqual([['encryption', 'no default encryption; the bootstrap sets aws:kms']]);
    expect(settingsOf({ encryption: { algorithm: 'AES256' } })).toEqual([['encryption', 'default encryption is AES256; the bootstrap sets aws:kms']]);
    expect(settingsOf({ encryption: { algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/other', bucketKeyEnabled: true } })).toEqual([
      ['encryption', `default encryption uses KMS key arn:aws:kms:us-east-1:123456789012:key/other; the bootstrap sets ${KEY}`],
    ]);
    expect(settingsOf({ encryption: { algorithm: 'aws:kms', kmsKeyId: KEY, bucketKeyEnabled: false } })).toEqual([
      ['encryption', 'S3 Bucket Keys are off (every object then costs KMS requests); the bootstrap turns them on'],
    ]);
    // The same key by its bare id.
    expect(settingsOf({ encryption: { algorithm: 'aws:kms', kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', bucketKeyEnabled: true } })).toEqual([]);
    expect(settingsOf({ encryption: { algorithm: 'AES256', bucketKeyEnabled: false } }, posture({ encryption: { algorithm: 'AES256' } }))).toEqual([]);
  });

  it('names a missing, changed or left-over statement of the platform', () => {
    expect(settingsOf({ policy: null })).toEqual([['policy', 'statement DenyInsecureTransport is missing']]);
    expect(settingsOf({ policy: { Statement: [{ ...DENY, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] } })).toEqual([
      ['policy', 'statement DenyInsecureTransport differs from what the bootstrap sets'],
    ]);
    const leftover: PolicyStatement = {
      Sid: 'CdnReadsDeliveryPrefixes',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::uploads/*',
    };
    expect(settingsOf({ policy: { Statement: [DENY, leftover] } })).toEqual([
      ['policy', 'statement CdnReadsDeliveryPrefixes is there, but this configuration sets none'],
    ]);
  });

  it('names CORS without the bootstrap’s rule (other origins, or none) and a missing or changed lifecycle rule', () => {
    expect(settingsOf({ corsRules: [{ ...corsRule(posture()), AllowedOrigins: ['*'] }] })).toEqual([
      ['cors', 'no CORS rule is the one the bootstrap sets (methods, origins, headers, exposed headers, max age)'],
    ]);
    expect(settingsOf({ corsRules: [] }).map(([s]) => s)).toEqual(['cors']);
    expect(settingsOf({ lifecycleRules: [] })).toEqual([['lifecycle', 'rule abort-incomplete-multipart-uploads is missing']]);
    expect(settingsOf({ lifecycleRules: [{ ...lifecycleRule(posture()), AbortIncompleteMultipartUpload: { DaysAfterInitiation: 30 } }] })).toEqual([
      ['lifecycle', 'rule abort-incomplete-multipart-uploads differs from what the bootstrap sets'],
    ]);
    // A rule written with the older top-level Prefix is the same rule.
    const { Filter: _filter, ...legacy } = lifecycleRule(posture());
    expect(settingsOf({ lifecycleRules: [{ ...legacy, Prefix: 'uploads/' }] })).toEqual([]);
  });

  it('compares only what was read, and reads nothing the posture does not manage', () => {
    expect(bucketDrift(posture(), {})).toEqual([]);
    expect(managedSettings(posture())).toEqual(['public-access-block', 'encryption', 'policy', 'cors', 'lifecycle']);
    const unmanaged = posture({ publicAccessBlock: null, encryption: null });
    expect(managedSettings(unmanaged)).toEqual(['policy', 'cors', 'lifecycle']);
    expect(bucketDrift(unmanaged, { publicAccessBlock: null, encryption: null })).toEqual([]);
  });

  it('carries what was expected and what was found, for the log', () => {
    const [drift] = bucketDrift(posture(), { encryption: { algorithm: 'AES256' } });
    expect(drift).toEqual({
      setting: 'encryption',
      problem: 'default encryption is AES256; the bootstrap sets aws:kms',
      expected: { algorithm: 'aws:kms', kmsKeyId: KEY },
      actual: { algorithm: 'AES256' },
    });
  });
});
