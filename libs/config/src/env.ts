import { z } from 'zod';

// Environment fragments. Each app composes the fragments it needs into one schema, parsed once
// at boot (config.module.ts); nothing else in the code base reads process.env.

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
export const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.string().url();
/** A comma-separated setting as its trimmed, non-empty items. */
const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `key=value` pairs, comma-separated, values percent-decoded: the OTel format of headers and resource attributes. */
const keyValueList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const pairs: Record<string, string> = {};
    commaList(value).forEach((item, index) => {
      const at = item.indexOf('=');
      const key = item.slice(0, Math.max(at, 0)).trim();
      let decoded: string | undefined;
      try {
        decoded = at > 0 ? decodeURIComponent(item.slice(at + 1).trim()) : undefined;
      } catch {
        decoded = undefined;
      }
      // The item is not echoed: OTLP headers carry collector API keys.
      if (!key || decoded === undefined) ctx.addIssue({ code: 'custom', message: `item ${index + 1} is not key=value (value percent-encoded)` });
      else pairs[key] = decoded;
    });
    return pairs;
  });
const otlpUrl = url.refine((v) => /^https?:\/\//.test(v), 'must be an http:// or https:// URL');
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  error: "must be http/protobuf or http/json (grpc is not supported: use the collector's OTLP/HTTP port, 4318)",
});

/**
 * Tracing (docs/tracing.md, docs/adr/0029-opentelemetry.md): OpenTelemetry's standard variables,
 * the subset the services act on. With no OTLP endpoint nothing is exported (and nothing runs in the
 * background), but W3C `traceparent` is still honoured and passed on.
 */
export const tracingEnv = z.object({
  /** true: no tracing at all, not even passing `traceparent` on. */
  OTEL_SDK_DISABLED: bool.default(false),
  /** The `service.name` of every span; unset, the service's own name (upload-api, chunk-tracker, ...). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** More resource attributes, e.g. `deployment.environment.name=prod,service.namespace=uploads`. */
  OTEL_RESOURCE_ATTRIBUTES: keyValueList,
  /** `none` turns exporting off even with an endpoint; `otlp` with no endpoint exports to http://localhost:4318. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  /** The collector's OTLP/HTTP base URL; spans go to its /v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl.optional(),
  /** The full URL spans are sent to, used as it is (wins over OTEL_EXPORTER_OTLP_ENDPOINT). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  /** Headers of every export request (`authorization=Bearer%20...`); the TRACES_ ones win per header. */
  OTEL_EXPORTER_OTLP_HEADERS: keyValueList,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValueList,
  /** Longest an export request may take (ms). */
  OTEL_EXPORTER_OTLP_TIMEOUT: positiveInt.optional(),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: positiveInt.optional(),
  /** Which traces are recorded; the parentbased_ ones follow the caller's sampled flag. */
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  /** The ratio of the traceidratio samplers, 0 to 1 (default 1). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
});

export const baseEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pretty, human-readable logs for a terminal; JSON (the default) for everything else. */
  LOG_PRETTY: bool.default(false),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** How long SIGTERM may take to drain in-flight work before the process gives up. */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
  // Every service traces, so every service's schema reports a bad tracing variable with the rest.
  ...tracingEnv.shape,
});

export const databaseEnv = z.object({
  DATABASE_URL: url.refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  DATABASE_POOL_MAX: positiveInt.default(10),
  /**
   * Rows each tenant's quota is held in (docs/adr/0017-quota-stripes.md): concurrent initiations
   * of one tenant lock one of them, not one shared row. More serves a busier tenant; fewer keeps
   * the allotments larger for tenants whose files are large against their quota.
   */
  QUOTA_STRIPES: positiveInt.max(256).default(16),
});

export const redisEnv = z.object({
  REDIS_URL: url.refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL'),
  /**
   * REDIS_URL is one node of a Redis Cluster (the others are discovered from it): queues and the
   * change fan-out spread over its masters by hash tag (docs/adr/0016-redis-cluster.md).
   */
  REDIS_CLUSTER: bool.default(false),
  /** Prefix of every BullMQ key, so several environments can share one Redis. */
  QUEUE_PREFIX: z.string().min(1).default('upl'),
  /**
   * Jobs each worker process runs at once, per queue it serves, as `queue=n,queue=n` (e.g.
   * `media-image=4,webhooks=128`); a queue not named keeps the registry's default. A size for a
   * machine, not a constant: ops set it with the pod's CPU.
   */
  QUEUE_CONCURRENCY: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const sizes: Record<string, number> = {};
      for (const pair of commaList(value)) {
        const match = /^([a-z][a-z-]*)=([1-9][0-9]{0,3})$/.exec(pair);
        if (!match) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not queue=n (n from 1 to 9999)` });
          continue;
        }
        sizes[match[1]] = Number(match[2]);
      }
      return sizes;
    }),
});

export const storageEnv = z.object({
  S3_ENDPOINT: url.optional(),
  /**
   * Where clients reach storage, when not at S3_ENDPOINT (docker-compose: the services reach moto
   * as moto:5000, a browser on the host at 127.0.0.1:5055). Presigned URLs and POST policies are
   * made for it; the services' own calls still go to S3_ENDPOINT. Set it on upload-api only: the
   * workers presign for themselves (ffmpeg's reads).
   */
  S3_PUBLIC_ENDPOINT: url.optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** Static credentials for the emulator or S3-compatible stores; unset means the SDK's default chain. */
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Prefix of uploaded objects; the S3 -> SQS notification filter matches it. */
  S3_OBJECT_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]+\/$/, 'must be lowercase letters, digits or dashes ending in /')
    .default('uploads/'),
  /** Prefix of derived objects (thumbnails, posters), outside the notification filter. */
  S3_VARIANT_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]+\/$/, 'must be lowercase letters, digits or dashes ending in /')
    .default('variants/'),
  PRESIGN_EXPIRES_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(900),
  /**
   * The bucket's posture (issue #15, docs/adr/0024-private-bucket.md), set by the storage bootstrap
   * and checked by chunk-tracker at start. Default encryption: `AES256` (SSE-S3), `aws:kms` (SSE-KMS
   * with S3_SSE_KMS_KEY_ID, which is then also signed into every upload URL and POST policy and
   * sent on the services' own writes), or `none`: neither set nor checked (AWS encrypts new objects
   * with SSE-S3 regardless; Ceph RGW 16 has no bucket encryption API).
   */
  S3_SSE: z.enum(['none', 'AES256', 'aws:kms']).default('AES256'),
  /** The KMS key of S3_SSE=aws:kms: a key ARN (best: compared as written), key id, alias ARN or alias/name. */
  S3_SSE_KMS_KEY_ID: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[A-Za-z0-9/_-]+)$/,
      'must be a KMS key ARN, key id, alias ARN or alias/<name>',
    )
    .optional(),
  /**
   * A bucket policy statement denying every request not made over TLS (aws:SecureTransport). Unset:
   * on unless S3_ENDPOINT is plain http (the emulator, a test RGW), where it would deny everything.
   */
  S3_REQUIRE_TLS: bool.optional(),
  /**
   * The bucket's Block Public Access settings: `all` four, `none` (neither set nor checked), or a
   * comma-separated list of BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and
   * RestrictPublicBuckets. Ceph RGW 16 refuses every upload under BlockPublicAcls (ceph tracker
   * #49135, fixed upstream in 2025): there, the other three.
   */
  S3_BLOCK_PUBLIC_ACCESS: z
    .string()
    .default('all')
    .transform((value, ctx) => {
      const flags = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
      const items = commaList(value);
      if (items.length === 1 && items[0] === 'none') return 'none' as const;
      if (items.length === 1 && items[0] === 'all') return [...flags];
      const unknown = items.filter((item) => !(flags as readonly string[]).includes(item));
      if (!items.length || unknown.length) {
        ctx.addIssue({ code: 'custom', message: `must be all, none, or a comma-separated list of ${flags.join(', ')} (not ${unknown.join(', ')})` });
        return z.NEVER;
      }
      return flags.filter((flag) => items.includes(flag));
    }),
  /** Origins allowed to send bytes to the bucket from a browser (its CORS rule), comma-separated, or *. */
  STORAGE_CORS_ORIGINS: z.string().default('*').transform(commaList).pipe(z.array(z.string()).min(1, 'must name at least one origin, or *')),
  /** Days after which the bucket's lifecycle rule aborts incomplete multipart uploads (the reconciler's backstop). */
  S3_ABORT_INCOMPLETE_DAYS: positiveInt.default(7),
});

export const sqsEnv = z.object({
  SQS_ENDPOINT: url.optional(),
  SQS_QUEUE_URL: url,
  SQS_BATCH_SIZE: z.coerce.number().int().min(1).max(10).default(10),
  SQS_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
  SQS_VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(43_200).default(60),
  /** Receive loops per chunk-tracker process: while one waits on its batch's HEADs and commit, another receives. */
  SQS_POLLERS: z.coerce.number().int().min(1).max(32).default(4),
});

/** Where chunk-tracker hears of storage events (docs/adr/0018-storage-events-http-push.md). */
export const storageEventsEnv = z.object({
  /** `sqs`: S3 notifications from SQS_QUEUE_URL. `http-push`: Ceph RGW POSTs them to chunk-tracker's /v1/storage-events. */
  STORAGE_EVENTS: z.enum(['sqs', 'http-push']).default('sqs'),
  /**
   * Secrets a push must carry as `?access_token=` in its URL (comma-separated, at least 32
   * characters each): every one listed is accepted, so a secret is rotated by adding the new one,
   * pointing the RGW topic at it, then removing the old one. Required with STORAGE_EVENTS=http-push.
   */
  STORAGE_EVENTS_PUSH_SECRETS: z
    .string()
    .default('')
    .transform(commaList)
    .pipe(
      z.array(
        z
          .string()
          .min(32, 'each secret must be at least 32 characters')
          .regex(/^[A-Za-z0-9._~-]+$/, 'each secret must be URL-safe (letters, digits, . _ ~ -)'),
      ),
    ),
});

export const authEnv = z.object({
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  TOKEN_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /**
   * How long an API key's lookup is remembered per process (0: not at all). A revoked or deleted
   * key stops working within this time; meanwhile requests skip a database round trip.
   */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
});

export const uploadsEnv = z.object({
  /** How long an upload may stay unfinished before it is expired (aborted, quota released). */
  UPLOAD_EXPIRY_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  /** Files up to this size are sent with one PUT; larger ones in parts. */
  MULTIPART_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(5 * 1024 ** 3)
    .default(16 * 1024 ** 2),
  /** Smallest part size chosen (S3's floor is 5 MiB); larger files get larger parts. */
  MIN_PART_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(8 * 1024 ** 2),
  /** Part URLs returned with the initiation answer (more are signed on request). */
  INITIAL_PART_URLS: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * An upload's deadline grows with its size: UPLOAD_EXPIRY_SECONDS plus the time its bytes take
   * at this sustained rate (0: no growth). 1 MiB/s gives a 10 GiB upload 2.8 hours more, 5 TiB 61
   * days more: a fixed 24 hours would need 60 MB/s sustained for the largest object S3 stores.
   */
  UPLOAD_EXPIRY_BYTES_PER_SECOND: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 * 1024),
});

export const corsEnv = z.object({
  /** Origins of web apps that call the API from a browser (comma-separated), or * for any. */
  API_CORS_ORIGINS: z.string().default('*').transform(commaList),
});

export const rateLimitEnv = z.object({
  /** Requests per minute of one owner's user tokens (a person's devices); 0 turns this limit off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  /**
   * Requests per minute of one API key: a team's backend acting for all its users, so a budget of
   * a service, not of a person (60,000 is 1,000 req/s); 0 turns this limit off.
   */
  API_KEY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(60_000),
});

export const reconcileEnv = z.object({
  /** How often chunk-tracker's reconciler runs. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(500).default(60_000),
  /** An upload in `completing` longer than this is re-driven. */
  RECONCILE_STUCK_SECONDS: z.coerce.number().int().min(1).default(600),
  /** A multipart upload storage holds with no live upload row is aborted once older than this. */
  ORPHAN_UPLOAD_MIN_AGE_SECONDS: z.coerce.number().int().min(0).default(3600),
  /** Rows the reconciler reads at a time; it works through its whole backlog a batch at a time. */
  RECONCILE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /**
   * The storage audit (issue #11): files storage is asked about per reconcile run, whether it still
   * holds a stored file's object (every STORAGE_AUDIT_INTERVAL_SECONDS) and an idle upload's
   * multipart upload (every RECONCILE_STUCK_SECONDS). 0 turns it off. A full pass over N stored
   * files a day needs N / 1,440 a run at the default interval of a minute.
   */
  STORAGE_AUDIT_BATCH_SIZE: z.coerce.number().int().min(0).max(100_000).default(500),
  STORAGE_AUDIT_INTERVAL_SECONDS: z.coerce.number().int().min(60).default(86_400),
});

export const retentionEnv = z.object({
  PROCESSED_EVENTS_RETENTION_HOURS: positiveInt.default(72),
  CHANGES_RETENTION_DAYS: positiveInt.default(30),
});

export const syncEnv = z.object({
  /** WebSocket pings this often; a device that has not answered the previous one is dropped. */
  SYNC_HEARTBEAT_SECONDS: positiveInt.default(30),
  /** Connections (WebSockets and long-polls) one owner may hold on one sync-notifier replica. */
  SYNC_MAX_CONNECTIONS_PER_OWNER: positiveInt.default(20),
  /** A device with more unsent bytes queued than this is disconnected (it resumes from its cursor). */
  SYNC_MAX_BUFFERED_BYTES: positiveInt.default(1024 ** 2),
  /** Longest `waitSeconds` of a long-poll on GET /v1/changes. */
  SYNC_MAX_WAIT_SECONDS: positiveInt.max(300).default(30),
});

export const webhookEnv = z.object({
  /** Deliveries of one change to one endpoint before it is given up (`dead`). */
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(50).default(8),
  /** Delay before the first retry; each further one doubles it. */
  WEBHOOK_RETRY_BASE_MS: positiveInt.default(10_000),
  /** A receiver answering slower than this counts as failed. */
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  /**
   * Webhook targets on private networks: `none` (production), `loopback` (127.0.0.0/8 and ::1,
   * the dev stack) or `all`. Checked at registration and again at every connection (DNS rebinding).
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['none', 'loopback', 'all']).default('none'),
  /** How long the previous secret still signs deliveries after a rotation. */
  WEBHOOK_SECRET_GRACE_HOURS: positiveInt.default(24),
  /** Owed deliveries the sweep reads (and enqueues) at a time; it goes through all of them, page by page. */
  WEBHOOK_SWEEP_BATCH_SIZE: positiveInt.max(10_000).default(1_000),
});

export const mediaEnv = z.object({
  /** Which media queues this deployment serves, so image and video work scale apart. */
  MEDIA_QUEUES: z
    .string()
    .default('verify,scan,image,video,transcode')
    .transform(commaList)
    .pipe(z.array(z.enum(['verify', 'scan', 'image', 'video', 'transcode'])).min(1)),
  /** The ClamAV daemon that scans files before they are ready (issue #15, docs/adr/0023). */
  CLAMD_HOST: z.string().min(1).default('127.0.0.1'),
  CLAMD_PORT: port.default(3310),
  /** No answer from clamd for this long (connecting, or for the verdict): the scan is retried later. */
  CLAMD_TIMEOUT_MS: positiveInt.default(60_000),
  /**
   * Files larger than this are not sent to clamd: the tenant's scanTooLarge decides (rejected, or
   * ready with `scan: skipped_too_large`). clamd's StreamMaxLength, MaxFileSize and MaxScanSize must
   * all be at least this: beyond MaxFileSize clamd answers OK without scanning (ADR 0023).
   */
  CLAMD_STREAM_MAX_BYTES: positiveInt.default(100 * 1024 ** 2),
  /** Malware found: the object is deleted, or first copied under S3_QUARANTINE_PREFIX (never served). */
  SCAN_INFECTED_ACTION: z.enum(['delete', 'quarantine']).default('delete'),
  S3_QUARANTINE_PREFIX: z.string().min(1).endsWith('/').default('quarantine/'),
  /** Decompression-bomb guard: images with more pixels are rejected before decoding. */
  IMAGE_MAX_PIXELS: z.coerce.number().int().positive().default(100_000_000),
  /** Images larger than this (bytes) get no variants (they become ready as they are). */
  IMAGE_MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024 ** 2),
  /**
   * Each sharp (libvips) pipeline of an image runs at most this long, then is abandoned and the file
   * marked failed (issue #11: one SVG of filters held a worker for 13 s). Whole seconds, as libvips counts.
   */
  IMAGE_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(15),
  /** ffprobe/ffmpeg runs longer than this are killed and the file marked failed. */
  FFMPEG_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(120),
  /** Make an H.264/AAC rendition (`video720`, at most 720 lines) of every ready video. */
  VIDEO_TRANSCODE: bool.default(false),
  /** A transcode running longer than this is killed (the job fails and is kept for inspection). */
  TRANSCODE_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(3_600),
});

export type BaseEnv = z.infer<typeof baseEnv>;
export type TracingEnv = z.infer<typeof tracingEnv>;
export type DatabaseEnv = z.infer<typeof databaseEnv>;
export type RedisEnv = z.infer<typeof redisEnv>;
export type StorageEnv = z.infer<typeof storageEnv>;
export type SqsEnv = z.infer<typeof sqsEnv>;
export type StorageEventsEnv = z.infer<typeof storageEventsEnv>;
export type AuthEnv = z.infer<typeof authEnv>;
export type UploadsEnv = z.infer<typeof uploadsEnv>;
export type CorsEnv = z.infer<typeof corsEnv>;
export type RateLimitEnv = z.infer<typeof rateLimitEnv>;
export type ReconcileEnv = z.infer<typeof reconcileEnv>;
export type RetentionEnv = z.infer<typeof retentionEnv>;
export type SyncEnv = z.infer<typeof syncEnv>;
export type WebhookEnv = z.infer<typeof webhookEnv>;
export type MediaEnv = z.infer<typeof mediaEnv>;

/** Delivery of downloads and variants (issue #15, docs/delivery.md). */
export const cdnEnv = z.object({
  /**
   * `none`: short-lived presigned S3 GETs. `cloudfront`: CloudFront signed URLs. `nginx`: a caching
   * nginx in front of the bucket (self-hosted CDN, or the local stand-in), links signed with its
   * `secure_link` scheme.
   */
  CDN: z.enum(['none', 'cloudfront', 'nginx']).default('none'),
  /** The CDN's public origin, e.g. https://d111111abcdef8.cloudfront.net (required unless CDN=none). */
  CDN_BASE_URL: url.optional(),
  /**
   * Signed links expire at the end of a window of this many seconds (their expiry is rounded up),
   * so the same variant has the same URL for the whole window and browsers and the CDN cache it.
   */
  CDN_LINK_WINDOW_SECONDS: positiveInt.default(3_600),
  /** Shortest life of a variant link (it lives this long plus up to one window). */
  CDN_VARIANT_LINK_SECONDS: positiveInt.default(3_600),
  /** Life of an original's link: private and short, never held in the CDN's cache. */
  CDN_ORIGINAL_LINK_SECONDS: positiveInt.max(3_600).default(300),
  /** nginx: the secure_link secret nginx shares with upload-api (at least 32 characters). */
  CDN_NGINX_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .regex(/^[A-Za-z0-9._~-]+$/, 'must be letters, digits or . _ ~ - (it is written into nginx.conf)')
    .optional(),
  /** cloudfront: the public key's id in the distribution's key group, and its private key (PEM). */
  CDN_CLOUDFRONT_KEY_PAIR_ID: z.string().min(1).optional(),
  CDN_CLOUDFRONT_PRIVATE_KEY: z.string().min(1).optional(),
  /** cloudfront: the distribution allowed to read the bucket (its ARN, for the bucket policy). */
  CDN_CLOUDFRONT_DISTRIBUTION_ARN: z.string().startsWith('arn:').optional(),
  /**
   * nginx: the addresses the CDN reads the bucket from (comma-separated CIDRs, for the bucket
   * policy's aws:SourceIp condition); empty grants no anonymous read.
   */
  CDN_ORIGIN_SOURCE_CIDRS: z.string().default('').transform(commaList),
});

export type CdnEnv = z.infer<typeof cdnEnv>;
