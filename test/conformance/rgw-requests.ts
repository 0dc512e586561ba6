import { randomBytes, randomUUID } from 'node:crypto';
import type { PresignedRequest } from '@app/storage';
import { KeyLayout } from '@app/storage';

export const MiB = 1024 ** 2;

const keys = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });
/** A key laid out as upload-api lays them out. */
export const newKey = (): string => keys.objectKey({ tenantId: randomUUID(), fileId: randomUUID() });

export const bytes = (n: number): Buffer => randomBytes(n);

/**
 * Sends a presigned request as a client would: its headers, except that `content-length` always
 * says how many bytes really go (HTTP cannot send another count), and any `headers` given replace
 * the signed ones. Returns RGW's answer.
 */
export async function send(p: Pick<PresignedRequest, 'method' | 'url' | 'headers'>, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  const sent: Record<string, string> = { ...p.headers, ...headers };
  if (body) sent['content-length'] = String(body.length);
  return fetch(p.url, { method: p.method, headers: sent, body: body ? new Uint8Array(body) : undefined });
}

/**
 * The URL with one query parameter's value replaced in place: everything else stays byte for byte
 * as signed (URLSearchParams would re-encode the rest, and the test would prove nothing).
 */
export function withQuery(url: string, name: string, value: string): string {
  const pattern = new RegExp(`([?&]${name}=)[^&]*`);
  if (!pattern.test(url)) throw new Error(`no ${name} in ${url}`);
  return url.replace(pattern, `$1${encodeURIComponent(value)}`);
}

/** The signature with its last character changed to another hex digit. */
export function tamperedSignature(url: string): string {
  const signature = new URL(url).searchParams.get('X-Amz-Signature')!;
  const last = signature.at(-1) === '0' ? '1' : '0';
  return withQuery(url, 'X-Amz-Signature', `${signature.slice(0, -1)}${last}`);
}

/** RGW's S3 error code, from its XML error document. */
export async function errorCode(res: Response): Promise<string | null> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] ?? null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
