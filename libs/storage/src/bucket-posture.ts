import { isIP } from 'node:net';
import type { z } from 'zod';
import { ConfigError } from '@app/config';
import type { CdnEnv, MediaEnv, StorageEnv } from '@app/config';
import { ConfigProblem, encryptionProblems, problemLines } from './encryption';

/**
 * What the bucket must look like (issue #15, docs/adr/0024-private-bucket.md): private (Block
 * Public Access), encrypted by default, a policy that denies plain-HTTP requests and lets only the
 * CDN read the delivery prefixes, CORS for browser uploads and the lifecycle rule. Built once from
 * the environment; the storage bootstrap converges the bucket to it (bucket-settings.ts) and
 * chunk-tracker compares the bucket with it at start (`bucketDrift`). No I/O here.
 */
export interface BucketPosture {
  bucket: string;
  objectPrefix: string;
  corsOrigins: string[];
  abortIncompleteAfterDays: number;
  /** null: not managed (S3_BLOCK_PUBLIC_ACCESS=none): neither set nor checked. */
  publicAccessBlock: PublicAccessBlock | null;
  /** null: not managed (S3_SSE=none). */
  encryption: BucketEncryption | null;
  /**
   * The statements of the bucket policy the platform owns, by Sid. Statements with other Sids (an
   * organisation's own) are kept as they are by the bootstrap and not compared.
   */
  policyStatements: PolicyStatement[];
}

export type PublicAccessFlag = 'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets';
export type PublicAccessBlock = Record<PublicAccessFlag, boolean>;
export const PUBLIC_ACCESS_FLAGS: readonly PublicAccessFlag[] = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

export type BucketEncryption = { algorithm: 'AES256' } | { algorithm: 'aws:kms'; kmsKeyId: string };

/** One statement of an IAM policy document, as S3 stores and returns it. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

/** The platform's statements, by Sid: stable, so a bucket's policy can be compared with them. */
export const DENY_INSECURE_TRANSPORT = 'DenyInsecureTransport';
export const CDN_READS_DELIVERY_PREFIXES = 'CdnReadsDeliveryPrefixes';
export const PLATFORM_STATEMENT_IDS: readonly string[] = [DENY_INSECURE_TRANSPORT, CDN_READS_DELIVERY_PREFIXES];

/** The rule the bootstrap sets and the drift check looks for; other rules are not compared. */
export interface CorsRule {
  AllowedMethods?: string[];
  AllowedOrigins?: string[];
  AllowedHeaders?: string[];
  ExposeHeaders?: string[];
  MaxAgeSeconds?: number;
}

export interface LifecycleRule {
  ID?: string;
  Status?: string;
  Filter?: { Prefix?: string };
  /** The rule's prefix as older S3 APIs (and some stores) return it, outside Filter. */
  Prefix?: string;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation?: number };
}

export const ABORT_INCOMPLETE_RULE_ID = 'abort-incomplete-multipart-uploads';

/** What the posture is built from: the storage settings, where the CDN reads from, and the quarantine prefix it must not. */
export type BucketPostureEnv = StorageEnv &
  Pick<CdnEnv, 'CDN' | 'CDN_CLOUDFRONT_DISTRIBUTION_ARN' | 'CDN_ORIGIN_SOURCE_CIDRS'> &
  Pick<MediaEnv, 'S3_QUARANTINE_PREFIX'>;

const CLOUDFRONT_DISTRIBUTION_ARN = /^arn:aws[a-z-]*:cloudfront::\d{12}:distribution\/[A-Z0-9]+$/;

/** The posture the environment describes; a ConfigError naming every variable that does not fit. */
export function bucketPosture(config: BucketPostureEnv): BucketPosture {
  const { posture, problems } = resolveBucketPosture(config);
  if (problems.length) throw new ConfigError(problemLines(problems));
  return posture;
}

/**
 * For a service's schema (`.superRefine(refineBucketPosture)`): the posture's problems reported
 * with every other bad variable, at once.
 */
export function refineBucketPosture(config: BucketPostureEnv, ctx: z.RefinementCtx): void {
  for (const p of resolveBucketPosture(config).problems) ctx.addIssue({ code: 'custom', path: [p.variable], message: p.message });
}

/** For the schema of a service that signs or writes (upload-api, media-processor): S3_SSE and its key. */
export function refineStorageEnv(config: Pick<StorageEnv, 'S3_SSE' | 'S3_SSE_KMS_KEY_ID'>, ctx: z.RefinementCtx): void {
  for (const p of encryptionProblems(config)) ctx.addIssue({ code: 'custom', path: [p.variable], message: p.message });
}

export function resolveBucketPosture(config: BucketPostureEnv): { posture: BucketPosture; problems: ConfigProblem[] } {
  const problems = [...encryptionProblems(config)];
  const arn = (resource: string) => `arn:${partition(config.S3_REGION)}:s3:::${config.S3_BUCKET}${resource}`;
  const statements: PolicyStatement[] = [];

  const plainHttp = config.S3_ENDPOINT ? new URL(config.S3_ENDPOINT).protocol === 'http:' : false;
  if (config.S3_REQUIRE_TLS && plainHttp)
    problems.push({ variable: 'S3_REQUIRE_TLS', message: `would deny every request the platform sends to S3_ENDPOINT (${config.S3_ENDPOINT}, plain http)` });
  // On by default; off by default for a plain-http endpoint (the emulator, a test RGW): there it
  // would deny the platform's own requests (moto enforces it so: every request 403).
  if (config.S3_REQUIRE_TLS ?? !plainHttp) {
    statements.push({
      Sid: DENY_INSECURE_TRANSPORT,
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [arn(''), arn('/*')],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  }

  const cdn = cdnStatement(config, arn, problems);
  if (cdn) statements.push(cdn);

  return {
    posture: {
      bucket: config.S3_BUCKET,
      objectPrefix: config.S3_OBJECT_PREFIX,
      corsOrigins: config.STORAGE_CORS_ORIGINS,
      abortIncompleteAfterDays: config.S3_ABORT_INCOMPLETE_DAYS,
      publicAccessBlock:
        config.S3_BLOCK_PUBLIC_ACCESS === 'none'
          ? null
          : (Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((flag) => [flag, config.S3_BLOCK_PUBLIC_ACCESS.includes(flag)])) as PublicAccessBlock),
      encryption:
        config.S3_SSE === 'none'
          ? null
          : config.S3_SSE === 'AES256'
            ? { algorithm: 'AES256' }
            : { algorithm: 'aws:kms', kmsKeyId: config.S3_SSE_KMS_KEY_ID ?? '' },
      policyStatements: statements,
    },
    problems,
  };
}

/**
 * The CDN's read of the delivery prefixes (never the quarantine prefix): CloudFront through origin
 * access control (its service principal, for one distribution) reads uploads and variants, since
 * it fetches originals itself; a self-hosted caching proxy (nginx) reads the variants alone, by its
 * source addresses: originals reach it as presigned requests storage checks (docs/delivery.md),
 * so nothing at its address can read a private original unsigned. Both count as non-public for Block
 * Public Access (a fixed aws:SourceArn, a set of CIDRs), so the block stays whole. None with
 * CDN=none: the platform's own credentials and presigned URLs need no grant.
 */
function cdnStatement(config: BucketPostureEnv, arn: (resource: string) => string, problems: ConfigProblem[]): PolicyStatement | null {
  const read = (prefixes: string[]) => ({
    Sid: CDN_READS_DELIVERY_PREFIXES,
    Action: 's3:GetObject',
    Resource: prefixes.map((prefix) => arn(`/${prefix}*`)),
  });
  let statement: PolicyStatement | null = null;
  if (config.CDN === 'cloudfront') {
    const distribution = config.CDN_CLOUDFRONT_DISTRIBUTION_ARN;
    if (!distribution)
      problems.push({
        variable: 'CDN_CLOUDFRONT_DISTRIBUTION_ARN',
        message: 'is required with CDN=cloudfront (the bucket policy lets that distribution read)',
      });
    else if (!CLOUDFRONT_DISTRIBUTION_ARN.test(distribution))
      problems.push({ variable: 'CDN_CLOUDFRONT_DISTRIBUTION_ARN', message: 'must be a distribution ARN, arn:aws:cloudfront::<account>:distribution/<id>' });
    else
      statement = {
        ...read([config.S3_OBJECT_PREFIX, config.S3_VARIANT_PREFIX]),
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': distribution } },
      };
  } else if (config.CDN === 'nginx' && config.CDN_ORIGIN_SOURCE_CIDRS.length) {
    const blocks: string[] = [];
    for (const item of config.CDN_ORIGIN_SOURCE_CIDRS) {
      const block = cidr(item);
      if (!block) problems.push({ variable: 'CDN_ORIGIN_SOURCE_CIDRS', message: `"${item}" is not an IP address or CIDR block` });
      else if (block.endsWith('/0')) problems.push({ variable: 'CDN_ORIGIN_SOURCE_CIDRS', message: `"${item}" would let every address read the bucket` });
      else blocks.push(block);
    }
    statement = { ...read([config.S3_VARIANT_PREFIX]), Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': blocks } } };
  }
  // The proxy reads variants unsigned, and S3 serves SSE-KMS objects to SigV4-signed requests only.
  if (config.CDN === 'nginx' && config.S3_SSE === 'aws:kms')
    problems.push({ variable: 'S3_SSE', message: 'aws:kms objects cannot be read by CDN=nginx (S3 serves them to signed requests only): use AES256' });
  const quarantine = config.S3_QUARANTINE_PREFIX;
  const exposed = [config.S3_OBJECT_PREFIX, config.S3_VARIANT_PREFIX].find((prefix) => quarantine.startsWith(prefix));
  if (statement && exposed)
    problems.push({ variable: 'S3_QUARANTINE_PREFIX', message: `lies under ${exposed}, which the CDN may read: infected files must never be served` });
  return statement;
}

/** An address (as a one-address block) or a CIDR block, written canonically; null when it is neither. */
function cidr(item: string): string | null {
  const [address, length, ...rest] = item.split('/');
  const family = isIP(address);
  if (!family || rest.length) return null;
  const max = family === 4 ? 32 : 128;
  if (length === undefined) return `${address}/${max}`;
  if (!/^\d{1,3}$/.test(length) || Number(length) > max) return null;
  return `${address}/${Number(length)}`;
}

/** The ARN partition of a region (China and GovCloud have their own). */
function partition(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** CORS for browser uploads, as the bootstrap sets it. */
export function corsRule(posture: Pick<BucketPosture, 'corsOrigins'>): Required<CorsRule> {
  return {
    // POST: browser form uploads with an S3 POST policy (Uppy 6's single-file path, #14).
    AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD'],
    AllowedOrigins: posture.corsOrigins,
    AllowedHeaders: ['*'],
    // Browsers must read the ETag of each part to complete a multipart upload, and Uppy reads a
    // form POST's Location.
    ExposeHeaders: ['ETag', 'Location', 'x-amz-checksum-sha256'],
    MaxAgeSeconds: 3600,
  };
}

/** S3 itself aborts multipart uploads left incomplete: the backstop to the reconciler. */
export function lifecycleRule(posture: Pick<BucketPosture, 'objectPrefix' | 'abortIncompleteAfterDays'>) {
  return {
    ID: ABORT_INCOMPLETE_RULE_ID,
    Status: 'Enabled' as const,
    Filter: { Prefix: posture.objectPrefix },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: posture.abortIncompleteAfterDays },
  };
}

/**
 * The bucket's policy with the platform's statements as the posture says and every other
 * statement kept; null when nothing is left (the policy is then deleted).
 */
export function mergedPolicy(current: PolicyDocument | null, posture: Pick<BucketPosture, 'policyStatements'>): PolicyDocument | null {
  const others = (current?.Statement ?? []).filter((s) => !PLATFORM_STATEMENT_IDS.includes(s.Sid ?? ''));
  const statements = [...others, ...posture.policyStatements];
  if (!statements.length) return null;
  return { Version: current?.Version ?? '2012-10-17', ...(current?.Id ? { Id: current.Id } : {}), Statement: statements };
}

/** A policy as S3 returns it: JSON whose `Statement` may be one object or a list. */
export function parsePolicy(json: string): PolicyDocument {
  const parsed = JSON.parse(json) as Omit<PolicyDocument, 'Statement'> & { Statement?: PolicyStatement | PolicyStatement[] };
  const statement = parsed.Statement ?? [];
  return { ...parsed, Statement: Array.isArray(statement) ? statement : [statement] };
}

/** Whether two policies (or statements) say the same, however storage reformatted them. */
export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * A policy in one spelling: keys sorted, a one-item list as its item, lists sorted, and inside
 * conditions the keys lower-cased (IAM condition keys are case-insensitive) and values as strings.
 */
function canonical(value: unknown, inCondition = false): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v, inCondition));
    if (items.length === 1) return items[0];
    return items.map((v) => JSON.stringify(v)).sort();
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [inCondition ? k.toLowerCase() : k, canonical(v, inCondition || k === 'Condition')] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
  // Condition values are strings to IAM (`false` and "false" alike).
  return inCondition && (typeof value === 'boolean' || typeof value === 'number') ? String(value) : value;
}

/** The posture in a line, for the bootstrap's output: `block public access: all, encryption: AES256, policy: DenyInsecureTransport`. */
export function describePosture(posture: BucketPosture): string {
  const block = posture.publicAccessBlock;
  const flags = block ? PUBLIC_ACCESS_FLAGS.filter((flag) => block[flag]) : [];
  return [
    `block public access: ${!block ? 'not managed' : flags.length === PUBLIC_ACCESS_FLAGS.length ? 'all' : flags.join('+') || 'none'}`,
    `encryption: ${!posture.encryption ? 'not managed' : posture.encryption.algorithm === 'aws:kms' ? `aws:kms ${posture.encryption.kmsKeyId}` : 'AES256'}`,
    `policy: ${posture.policyStatements.map((s) => s.Sid).join(', ') || 'no statements of the platform'}`,
  ].join(', ');
}
