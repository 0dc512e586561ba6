import { cdnEnv, ConfigError, loadConfig, mediaEnv, storageEnv } from '@app/config';
import {
  bucketPosture,
  BucketPostureEnv,
  describePosture,
  mergedPolicy,
  parsePolicy,
  PolicyStatement,
  resolveBucketPosture,
  samePolicy,
} from './bucket-posture';

/** The environment as the bootstrap CLI and chunk-tracker parse it (their schemas add the same fragments). */
const schema = storageEnv
  .extend(cdnEnv.pick({ CDN: true, CDN_CLOUDFRONT_DISTRIBUTION_ARN: true, CDN_ORIGIN_SOURCE_CIDRS: true }).shape)
  .extend(mediaEnv.pick({ S3_QUARANTINE_PREFIX: true }).shape);
const env = (vars: Record<string, string> = {}): BucketPostureEnv => loadConfig(schema, { S3_BUCKET: 'uploads', ...vars });
const problemsOf = (vars: Record<string, string>) => resolveBucketPosture(env(vars)).problems.map((p) => `${p.variable}: ${p.message}`);

const DISTRIBUTION = 'arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('bucketPosture: what the environment asks of the bucket', () => {
  it('on AWS by default: every public access blocked, SSE-S3, plain HTTP denied, no CDN grant, CORS and lifecycle as before', () => {
    expect(bucketPosture(env())).toEqual({
      bucket: 'uploads',
      objectPrefix: 'uploads/',
      corsOrigins: ['*'],
      abortIncompleteAfterDays: 7,
      publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      encryption: { algorithm: 'AES256' },
      policyStatements: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::uploads', 'arn:aws:s3:::uploads/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
  });

  it('sets no TLS statement for a plain-http endpoint (the emulator, a test RGW), whose every request it would deny', () => {
    expect(bucketPosture(env({ S3_ENDPOINT: 'http://127.0.0.1:5055' })).policyStatements).toEqual([]);
    expect(bucketPosture(env({ S3_ENDPOINT: 'https://s3.example.net' })).policyStatements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport']);
    expect(bucketPosture(env({ S3_REQUIRE_TLS: 'false' })).policyStatements).toEqual([]);
    expect(problemsOf({ S3_ENDPOINT: 'http://127.0.0.1:5055', S3_REQUIRE_TLS: 'true' })).toEqual([
      'S3_REQUIRE_TLS: would deny every request the platform sends to S3_ENDPOINT (http://127.0.0.1:5055, plain http)',
    ]);
  });

  it('lets one CloudFront distribution (origin access control) read the upload and variant prefixes, nothing else', () => {
    const [, cdn] = bucketPosture(env({ CDN: 'cloudfront', CDN_CLOUDFRONT_DISTRIBUTION_ARN: DISTRIBUTION })).policyStatements;
    expect(cdn).toEqual({
      Sid: 'CdnReadsDeliveryPrefixes',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: ['arn:aws:s3:::uploads/uploads/*', 'arn:aws:s3:::uploads/variants/*'],
      Condition: { StringEquals: { 'AWS:SourceArn': DISTRIBUTION } },
    });
  });

  it('lets a self-hosted CDN (nginx) read the variants alone from its addresses only, and grants nothing without addresses', () => {
    const [, cdn] = bucketPosture(env({ CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: '203.0.113.0/24, 198.51.100.7,2001:db8::/48' })).policyStatements;
    expect(cdn).toMatchObject({
      Sid: 'CdnReadsDeliveryPrefixes',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      // Originals reach nginx as presigned requests: its address reads none unsigned.
      Resource: ['arn:aws:s3:::uploads/variants/*'],
      Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.7/32', '2001:db8::/48'] } },
    });
    expect(bucketPosture(env({ CDN: 'nginx' })).policyStatements.map((s) => s.Sid)).toEqual(['DenyInsecureTransport']);
  });

  it('names resources in the partition of the region (China, GovCloud)', () => {
    expect(bucketPosture(env({ S3_REGION: 'cn-north-1' })).policyStatements[0].Resource).toEqual(['arn:aws-cn:s3:::uploads', 'arn:aws-cn:s3:::uploads/*']);
    expect(bucketPosture(env({ S3_REGION: 'us-gov-west-1' })).policyStatements[0].Resource).toEqual([
      'arn:aws-us-gov:s3:::uploads',
      'arn:aws-us-gov:s3:::uploads/*',
    ]);
  });

  it('takes SSE-KMS with its key, a subset of the public-access block, or neither managed', () => {
    expect(bucketPosture(env({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KEY })).encryption).toEqual({ algorithm: 'aws:kms', kmsKeyId: KEY });
    expect(bucketPosture(env({ S3_SSE: 'none' })).encryption).toBeNull();
    expect(bucketPosture(env({ S3_BLOCK_PUBLIC_ACCESS: 'RestrictPublicBuckets, IgnorePublicAcls,BlockPublicPolicy' })).publicAccessBlock).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(bucketPosture(env({ S3_BLOCK_PUBLIC_ACCESS: 'none' })).publicAccessBlock).toBeNull();
  });

  it('reports every variable that does not fit, at once and by name', () => {
    expect(problemsOf({ S3_SSE: 'aws:kms', CDN: 'cloudfront' })).toEqual([
      'S3_SSE_KMS_KEY_ID: is required with S3_SSE=aws:kms',
      'CDN_CLOUDFRONT_DISTRIBUTION_ARN: is required with CDN=cloudfront (the bucket policy lets that distribution read)',
    ]);
    expect(problemsOf({ S3_SSE_KMS_KEY_ID: KEY })).toEqual([
      'S3_SSE_KMS_KEY_ID: is only used with S3_SSE=aws:kms (S3_SSE is AES256): set S3_SSE=aws:kms, or unset the key',
    ]);
    expect(problemsOf({ CDN: 'cloudfront', CDN_CLOUDFRONT_DISTRIBUTION_ARN: 'arn:aws:s3:::uploads' })).toEqual([
      'CDN_CLOUDFRONT_DISTRIBUTION_ARN: must be a distribution ARN, arn:aws:cloudfront::<account>:distribution/<id>',
    ]);
    expect(problemsOf({ CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: '10.0.0.0/8,10.0.0.300,0.0.0.0/0,::/0,10.1.0.0/33' })).toEqual([
      'CDN_ORIGIN_SOURCE_CIDRS: "10.0.0.300" is not an IP address or CIDR block',
      'CDN_ORIGIN_SOURCE_CIDRS: "0.0.0.0/0" would let every address read the bucket',
      'CDN_ORIGIN_SOURCE_CIDRS: "::/0" would let every address read the bucket',
      'CDN_ORIGIN_SOURCE_CIDRS: "10.1.0.0/33" is not an IP address or CIDR block',
    ]);
    expect(() => bucketPosture(env({ S3_SSE: 'aws:kms' }))).toThrow(ConfigError);
  });

  it('refuses SSE-KMS with the nginx CDN: its reads are unsigned, and S3 serves SSE-KMS objects to signed requests only', () => {
    expect(problemsOf({ CDN: 'nginx', S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: KEY })).toEqual([
      'S3_SSE: aws:kms objects cannot be read by CDN=nginx (S3 serves them to signed requests only): use AES256',
    ]);
  });

  it('refuses a quarantine prefix under a prefix the CDN may read', () => {
    expect(problemsOf({ CDN: 'cloudfront', CDN_CLOUDFRONT_DISTRIBUTION_ARN: DISTRIBUTION, S3_QUARANTINE_PREFIX: 'variants/quarantine/' })).toEqual([
      'S3_QUARANTINE_PREFIX: lies under variants/, which the CDN may read: infected files must never be served',
    ]);
    // Without a CDN grant nothing reads it anonymously.
    expect(problemsOf({ S3_QUARANTINE_PREFIX: 'variants/quarantine/' })).toEqual([]);
  });

  it('refuses bad values of its own variables when the environment is parsed', () => {
    const problems = (vars: Record<string, string>) => {
      try {
        env(vars);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ S3_BLOCK_PUBLIC_ACCESS: 'BlockPublicAcls,BlockEverything' })).toEqual([
      'S3_BLOCK_PUBLIC_ACCESS: must be all, none, or a comma-separated list of BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets (not BlockEverything)',
    ]);
    expect(problems({ S3_SSE: 'aws:kms:dsse', S3_SSE_KMS_KEY_ID: 'key with spaces' })).toEqual([
      'S3_SSE: Invalid option: expected one of "none"|"AES256"|"aws:kms"',
      'S3_SSE_KMS_KEY_ID: must be a KMS key ARN, key id, alias ARN or alias/<name>',
    ]);
    expect(problems({ STORAGE_CORS_ORIGINS: ' , ' })).toEqual(['STORAGE_CORS_ORIGINS: must name at least one origin, or *']);
  });

  it('says what it set in a line', () => {
    expect(describePosture(bucketPosture(env()))).toBe('block public access: all, encryption: AES256, policy: DenyInsecureTransport');
    expect(describePosture(bucketPosture(env({ S3_ENDPOINT: 'http://rgw:80', S3_SSE: 'none', S3_BLOCK_PUBLIC_ACCESS: 'IgnorePublicAcls' })))).toBe(
      'block public access: IgnorePublicAcls, encryption: not managed, policy: no statements of the platform',
    );
  });
});

describe('the bucket policy: the platform owns its statements, by Sid', () => {
  const theirs: PolicyStatement = { Sid: 'OrgDenyDeleteBucket', Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::uploads' };

  it('keeps statements of others, replaces its own, and removes its own that the configuration no longer sets', () => {
    const posture = bucketPosture(env());
    const stale: PolicyStatement = {
      Sid: 'CdnReadsDeliveryPrefixes',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::uploads/*',
    };
    expect(mergedPolicy({ Version: '2012-10-17', Id: 'org', Statement: [theirs, stale] }, posture)).toEqual({
      Version: '2012-10-17',
      Id: 'org',
      Statement: [theirs, ...posture.policyStatements],
    });
    // Nothing left: the policy is deleted rather than written empty (S3 refuses an empty one).
    expect(mergedPolicy({ Statement: [stale] }, bucketPosture(env({ S3_REQUIRE_TLS: 'false' })))).toBeNull();
    expect(mergedPolicy(null, bucketPosture(env({ S3_REQUIRE_TLS: 'false' })))).toBeNull();
  });

  it('compares statements however storage spelled them (one-item lists, order, condition key case, booleans)', () => {
    const [deny] = bucketPosture(env()).policyStatements;
    const respelled = {
      Condition: { Bool: { 'AWS:SecureTransport': false } },
      Resource: ['arn:aws:s3:::uploads/*', 'arn:aws:s3:::uploads'],
      Action: ['s3:*'],
      Principal: '*',
      Effect: 'Deny',
      Sid: 'DenyInsecureTransport',
    };
    expect(samePolicy(respelled, deny)).toBe(true);
    expect(samePolicy({ ...respelled, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, deny)).toBe(false);
    expect(samePolicy({ ...respelled, Resource: 'arn:aws:s3:::uploads/*' }, deny)).toBe(false);
  });

  it('reads a policy whose Statement is one object', () => {
    expect(parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: theirs }))).toEqual({ Version: '2012-10-17', Statement: [theirs] });
  });
});
