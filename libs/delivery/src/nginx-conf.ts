import { readFileSync } from 'node:fs';
import path from 'node:path';

/** deploy/nginx/nginx.conf.template, found from the source tree and from dist/ alike. */
export function nginxTemplatePath(): string {
  const [root] = __dirname.split(`${path.sep}libs${path.sep}`);
  const base = path.basename(root) === 'dist' ? path.dirname(root) : root;
  return path.join(base, 'deploy', 'nginx', 'nginx.conf.template');
}

export interface NginxConfValues {
  CDN_LISTEN: string;
  CDN_STATE_DIR: string;
  CDN_NGINX_SECRET: string;
  S3_ORIGIN: string;
  S3_ORIGIN_HOST: string;
  S3_BUCKET_PATH: string;
  S3_VARIANT_PREFIX: string;
}

/** Where nginx reaches the bucket: from the S3 endpoint (path-style) or AWS's bucket host. */
export function storageOrigin(s3: { S3_ENDPOINT?: string; S3_BUCKET: string; S3_REGION: string; S3_FORCE_PATH_STYLE: boolean }) {
  const endpoint = new URL(s3.S3_ENDPOINT ?? `https://s3.${s3.S3_REGION}.amazonaws.com`);
  const host = s3.S3_FORCE_PATH_STYLE ? endpoint.host : `${s3.S3_BUCKET}.${endpoint.host}`;
  return { S3_ORIGIN: `${endpoint.protocol}//${host}`, S3_ORIGIN_HOST: host, S3_BUCKET_PATH: s3.S3_FORCE_PATH_STYLE ? `/${s3.S3_BUCKET}` : '' };
}

/**
 * The template with its ${NAME} placeholders filled, as the nginx image's envsubst would, and only
 * those: nginx's own $variables stay. A placeholder with no value is an error, not an empty string.
 */
export function renderNginxConf(values: NginxConfValues, template = readFileSync(nginxTemplatePath(), 'utf8')): string {
  const byName: Record<string, string | undefined> = { ...values };
  for (const [name, value] of Object.entries(values) as Array<[string, string]>) {
    if (/[\s;{}"'$]/.test(value)) throw new Error(`${name} cannot go into nginx's configuration: ${JSON.stringify(value)}`);
  }
  const fill = (line: string) =>
    line.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
      const value = byName[name];
      if (value === undefined) throw new Error(`deploy/nginx/nginx.conf.template needs ${name}`);
      return value;
    });
  // Comments may name placeholders; only directives are filled.
  return template
    .split('\n')
    .map((line) => (line.trimStart().startsWith('#') ? line : fill(line)))
    .join('\n');
}
