import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface WebAppOptions {
  /** Where the browser reaches sync-notifier (the change feed's WebSocket). */
  syncUrl: string;
  /** S3 endpoint the page PUTs parts to and fetches thumbnails from; unset means AWS S3. */
  s3Endpoint?: string;
  s3Region: string;
  /** The CDN's origin when one serves downloads and thumbnails (CDN_BASE_URL); unset: storage serves them. */
  cdnBaseUrl?: string;
  /** The bundle (dist/web, built by apps/upload-api/web/build.mjs); found beside the compiled app by default. */
  root?: string;
}

/**
 * Serves the web uploader (issue #14) at /app/: the static bundle, and /app/config.json telling
 * the page where sync-notifier is. Plain Fastify routes, outside Nest's controllers, so none of
 * this joins the versioned API or its OpenAPI document. Not served when the bundle was not built.
 */
export async function serveWebApp(fastify: FastifyInstance, options: WebAppOptions): Promise<boolean> {
  const root = options.root ?? bundleRoot();
  if (!root) return false;
  const csp = contentSecurityPolicy(options);

  fastify.get('/app', (_request, reply) => reply.redirect('/app/', 301));
  fastify.get('/app/config.json', (_request, reply) =>
    reply
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send({ apiUrl: '', syncUrl: options.syncUrl.replace(/\/$/, '') }),
  );
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/app/',
    index: ['index.html'],
    // Names carry no content hash: browsers keep a copy but ask again (ETag/Last-Modified make that a 304).
    cacheControl: false,
    setHeaders: (reply) => {
      void reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY');
    },
  });
  return true;
}

/**
 * Only this origin's code and styles; connections to this API, to storage (part PUTs, downloads
 * after the API's redirect), to the CDN and to sync-notifier (its WebSocket); images from the
 * File view's links (the CDN's, or storage's without one) and from blob: URLs.
 */
export function contentSecurityPolicy(options: Pick<WebAppOptions, 'syncUrl' | 's3Endpoint' | 's3Region' | 'cdnBaseUrl'>): string {
  const sync = new URL(options.syncUrl);
  const syncWs = `${sync.protocol === 'https:' ? 'wss:' : 'ws:'}//${sync.host}`;
  const storage = options.s3Endpoint
    ? [new URL(options.s3Endpoint).origin]
    : // Virtual-hosted and path-style AWS endpoints of the region.
      [`https://*.s3.${options.s3Region}.amazonaws.com`, `https://s3.${options.s3Region}.amazonaws.com`];
  const delivery = options.cdnBaseUrl ? [new URL(options.cdnBaseUrl).origin] : storage;
  const reads = [...new Set([...storage, ...delivery])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: ${delivery.join(' ')}`,
    `connect-src 'self' ${reads} ${sync.origin} ${syncWs}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** dist/web beside dist/apps when running the build; <repo>/dist/web when running from source. */
function bundleRoot(): string | null {
  const [base] = __dirname.split(`${path.sep}apps${path.sep}`);
  for (const candidate of [path.join(base, 'web'), path.join(base, 'dist', 'web')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}
