import { ConfigError, loadConfig } from './load-config';
import { baseEnv, databaseEnv, mediaEnv, storageEnv } from './env';

const schema = baseEnv.extend(databaseEnv.shape).extend(storageEnv.shape);

describe('loadConfig', () => {
  it('reports every bad variable at once, not one per restart', () => {
    let error: unknown;
    try {
      loadConfig(schema, { DATABASE_URL: 'mysql://x', S3_BUCKET: 'Bad_Bucket', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL: must be a postgres/),
        expect.stringMatching(/^S3_BUCKET: must be a valid S3 bucket name/),
        expect.stringMatching(/^LOG_LEVEL: /),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('names a missing required variable as required', () => {
    expect(() => loadConfig(databaseEnv, {})).toThrow(/DATABASE_URL: is required/);
  });

  it('applies defaults and treats empty strings as unset', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgresql://u@h/db', S3_BUCKET: 'uploads', S3_ENDPOINT: '', S3_FORCE_PATH_STYLE: 'true' });
    expect(config.S3_ENDPOINT).toBeUndefined();
    expect(config.S3_FORCE_PATH_STYLE).toBe(true);
    expect(config.PRESIGN_EXPIRES_SECONDS).toBe(900);
    expect(config.DATABASE_POOL_MAX).toBe(10);
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(25_000);
  });

  it('parses MEDIA_QUEUES into the kinds a deployment serves and rejects unknown kinds', () => {
    expect(loadConfig(mediaEnv, { MEDIA_QUEUES: 'image, video' }).MEDIA_QUEUES).toEqual(['image', 'video']);
    expect(() => loadConfig(mediaEnv, { MEDIA_QUEUES: 'image,audio' })).toThrow(ConfigError);
  });
});
