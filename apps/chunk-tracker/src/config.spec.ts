import { ConfigError, loadConfig } from '@app/config';
import { trackerEnv } from './config';

const base = { DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r:6379', S3_BUCKET: 'uploads' };
const SECRET = 'a-push-secret-0123456789abcdefghijklmn';
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(trackerEnv, { ...base, ...env });
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

describe('trackerEnv: the storage event source', () => {
  it('defaults to SQS, which needs its queue', () => {
    expect(problemsOf({})).toEqual(['SQS_QUEUE_URL: is required with STORAGE_EVENTS=sqs']);
    expect(loadConfig(trackerEnv, { ...base, SQS_QUEUE_URL: 'http://sqs/q' }).STORAGE_EVENTS).toBe('sqs');
  });

  it('with http-push needs no queue but at least one secret, and splits a rotation list', () => {
    expect(problemsOf({ STORAGE_EVENTS: 'http-push' })).toEqual(['STORAGE_EVENTS_PUSH_SECRETS: is required with STORAGE_EVENTS=http-push']);
    const config = loadConfig(trackerEnv, { ...base, STORAGE_EVENTS: 'http-push', STORAGE_EVENTS_PUSH_SECRETS: ` ${SECRET}, ${SECRET}2 ` });
    expect(config.STORAGE_EVENTS_PUSH_SECRETS).toEqual([SECRET, `${SECRET}2`]);
  });

  it('refuses short secrets and secrets that do not fit in a URL as they are', () => {
    expect(problemsOf({ STORAGE_EVENTS: 'http-push', STORAGE_EVENTS_PUSH_SECRETS: 'short' })).toEqual([
      'STORAGE_EVENTS_PUSH_SECRETS.0: each secret must be at least 32 characters',
    ]);
    expect(problemsOf({ STORAGE_EVENTS: 'http-push', STORAGE_EVENTS_PUSH_SECRETS: `${SECRET}&x=1` })).toEqual([
      'STORAGE_EVENTS_PUSH_SECRETS.0: each secret must be URL-safe (letters, digits, . _ ~ -)',
    ]);
  });
});

describe('trackerEnv: the bucket posture it checks at start', () => {
  it('reports a posture that cannot be built with every other bad variable, by name', () => {
    expect(problemsOf({ S3_SSE: 'aws:kms', CDN: 'cloudfront', CDN_ORIGIN_SOURCE_CIDRS: '10.0.0.0/8' })).toEqual([
      'S3_SSE_KMS_KEY_ID: is required with S3_SSE=aws:kms',
      'CDN_CLOUDFRONT_DISTRIBUTION_ARN: is required with CDN=cloudfront (the bucket policy lets that distribution read)',
      'SQS_QUEUE_URL: is required with STORAGE_EVENTS=sqs',
    ]);
  });

  it('reads the CDN and quarantine settings the bucket policy is made from', () => {
    const config = loadConfig(trackerEnv, { ...base, SQS_QUEUE_URL: 'http://sqs/q', CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: '10.0.0.0/8' });
    expect(config).toMatchObject({ CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: ['10.0.0.0/8'], S3_QUARANTINE_PREFIX: 'quarantine/', S3_SSE: 'AES256' });
  });
});
