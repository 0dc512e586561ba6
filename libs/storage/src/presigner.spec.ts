import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { FastPresigner, memoizeCredentials, PresignedRequest } from './presigner';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2026-11-21T08:00:00Z');
const key = 'uploads/0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b/9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';

function presigner(overrides: Partial<ConstructorParameters<typeof FastPresigner>[0]> = {}) {
  return new FastPresigner({
    bucket: 'uploads',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:5055',
    forcePathStyle: true,
    credentials,
    expiresInSeconds: 900,
    now: () => now,
    ...overrides,
  });
}

/**
 * Re-verifies a presigned URL the way S3 does: rebuild the request from the URL exactly as a
 * client sends it (method, path, query minus the signature, signed headers) and sign it again
 * with the SDK's own SigV4 signer at the URL's date. Equal signatures mean S3 accepts it.
 * `sent`: headers the client's HTTP stack adds itself (Content-Length, from the body).
 */
async function reverify(p: PresignedRequest, sent: Record<string, string> = {}): Promise<{ expected: string; actual: string }> {
  const url = new URL(p.url);
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const actual = query['X-Amz-Signature'];
  const signedHeaders = query['X-Amz-SignedHeaders'].split(';');
  const amzDate = query['X-Amz-Date'];
  // Everything SigV4 itself adds comes off; the payload-hash parameter goes back to being the
  // header the official S3 presigner hoists (`X-Amz-Content-Sha256`, as getSignedUrl sends it).
  for (const k of ['X-Amz-Signature', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Content-Sha256'])
    delete query[k];
  const headers: Record<string, string> = { host: url.host, ...sent, ...p.headers };
  const request = new HttpRequest({
    method: p.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port) || undefined,
    path: url.pathname,
    query,
    headers: { ...headers, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  });
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256: Hash.bind(null, 'sha256'), uriEscapePath: false });
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const again = await signer.presign(request, {
    signingDate,
    expiresIn: Number(url.searchParams.get('X-Amz-Expires')),
    // As @aws-sdk/s3-request-presigner does, SSE headers stay headers (S3 takes them so).
    unhoistableHeaders: new Set(['x-amz-checksum-sha256', ...Object.keys(headers).filter((h) => h.startsWith('x-amz-server-side-encryption'))]),
    unsignableHeaders: new Set(Object.keys(headers).filter((h) => !signedHeaders.includes(h))),
  });
  return { expected: again.query?.['X-Amz-Signature'] as string, actual };
}

describe('FastPresigner', () => {
  it('signs a single PUT for exactly one key, with type, length and single use (If-None-Match: *) signed', async () => {
    const p = await presigner().putObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    const url = new URL(p.url);
    expect(p.method).toBe('PUT');
    expect(url.origin).toBe('http://127.0.0.1:5055');
    expect(url.pathname).toBe(`/uploads/${key}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request');
    // Content-Length is signed (storage takes exactly 1234 bytes) but not listed: the client's HTTP stack sends it.
    expect(p.headers).toEqual({ 'content-type': 'image/jpeg', 'if-none-match': '*' });
    expect(p.expiresAt).toEqual(new Date(now.getTime() + 900_000));
    const { expected, actual } = await reverify(p, { 'content-length': '1234' });
    expect(actual).toBe(expected);
    // A body of another length is refused by storage: the signature no longer matches.
    const longer = await reverify(p, { 'content-length': '1235' });
    expect(longer.actual).not.toBe(longer.expected);
  });

  it('signs a declared checksum as a header the client must send', async () => {
    const checksum = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';
    const p = await presigner().putObject(key, { contentType: 'text/plain', contentLength: 1, checksumSha256: checksum });
    expect(new URL(p.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match;x-amz-checksum-sha256');
    expect(new URL(p.url).searchParams.has('x-amz-checksum-sha256')).toBe(false);
    expect(p.headers['x-amz-checksum-sha256']).toBe(checksum);
    const { expected, actual } = await reverify(p, { 'content-length': '1' });
    expect(actual).toBe(expected);
  });

  it('a changed header or path no longer matches the signature', async () => {
    const p = await presigner().putObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    const sent = { 'content-length': '1234' };
    const tampered = { ...p, headers: { ...p.headers, 'content-type': 'text/html' } };
    const { expected, actual } = await reverify(tampered, sent);
    expect(actual).not.toBe(expected);
    // Dropping the condition (to overwrite a stored file with the same URL) breaks the signature too.
    const { 'if-none-match': _condition, ...unconditional } = p.headers;
    const overwrite = await reverify({ ...p, headers: unconditional }, sent);
    expect(overwrite.actual).not.toBe(overwrite.expected);
    const otherKey = { ...p, url: p.url.replace(key, `${key}x`) };
    const second = await reverify(otherKey, sent);
    expect(second.actual).not.toBe(second.expected);
  });

  it('lists no header a browser refuses to set, for single PUTs and parts (#14)', async () => {
    // fetch.spec.whatwg.org "forbidden request-header" names, and the Proxy-/Sec- prefixes.
    const forbidden = new Set([
      'accept-charset',
      'accept-encoding',
      'access-control-request-headers',
      'access-control-request-method',
      'connection',
      'content-length',
      'cookie',
      'cookie2',
      'date',
      'dnt',
      'expect',
      'host',
      'keep-alive',
      'origin',
      'referer',
      'set-cookie',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
      'via',
    ]);
    const signer = presigner();
    const checksum = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';
    const answers = [
      await signer.putObject(key, { contentType: 'image/jpeg', contentLength: 1234 }),
      await signer.putObject(key, { contentType: 'image/jpeg', contentLength: 1234, checksumSha256: checksum }),
      ...(await signer.uploadParts(key, 'upload-1', [{ partNumber: 1 }, { partNumber: 2, checksumSha256: checksum }])),
    ];
    for (const p of answers) {
      for (const name of Object.keys(p.headers)) {
        expect(forbidden.has(name.toLowerCase()) || /^(proxy|sec)-/i.test(name)).toBe(false);
      }
    }
  });

  it('signs a batch of part URLs for one upload, each bound to its part number', async () => {
    const parts = await presigner().uploadParts(key, 'upload-1', [{ partNumber: 1 }, { partNumber: 2 }, { partNumber: 10_000 }]);
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 10_000]);
    for (const p of parts) {
      const url = new URL(p.url);
      expect(url.searchParams.get('partNumber')).toBe(String(p.partNumber));
      expect(url.searchParams.get('uploadId')).toBe('upload-1');
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
      const { expected, actual } = await reverify(p);
      expect(actual).toBe(expected);
    }
    expect(new Set(parts.map((p) => new URL(p.url).searchParams.get('X-Amz-Signature'))).size).toBe(3);
  });

  it('puts no checksum of an empty body into any URL (real S3 would refuse every upload; RGW and moto check no checksums)', async () => {
    const signer = presigner();
    const urls = [
      (await signer.putObject(key, { contentType: 'image/jpeg', contentLength: 1234 })).url,
      (await signer.putObject(key, { contentType: 'image/jpeg', contentLength: 1234, checksumSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' })).url,
      ...(await signer.uploadParts(key, 'upload-1', [{ partNumber: 1 }])).map((p) => p.url),
      (await signer.getObject(key, { expiresInSeconds: 60 })).url,
    ];
    for (const url of urls) {
      const params = [...new URL(url).searchParams.keys()].map((k) => k.toLowerCase());
      expect(params.filter((k) => k.startsWith('x-amz-checksum-') || k === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    }
  });

  it('signs a GET with a response Content-Disposition override', async () => {
    const p = await presigner().getObject(key, { contentDisposition: `attachment; filename="a b.txt"; filename*=UTF-8''a%20b.txt`, expiresInSeconds: 60 });
    const url = new URL(p.url);
    expect(p.method).toBe('GET');
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="a b.txt"; filename*=UTF-8''a%20b.txt`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    const { expected, actual } = await reverify(p);
    expect(actual).toBe(expected);
  });

  it('signs SSE-KMS into a single PUT as headers the client must send, so no other key (or none) can be used (#15)', async () => {
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const p = await presigner({ encryption: { algorithm: 'aws:kms', kmsKeyId } }).putObject(key, { contentType: 'image/jpeg', contentLength: 1234 });
    const url = new URL(p.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe(
      'content-length;content-type;host;if-none-match;x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id',
    );
    expect(p.headers).toEqual({
      'content-type': 'image/jpeg',
      'if-none-match': '*',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': kmsKeyId,
    });
    expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().startsWith('x-amz-server-side-encryption'))).toEqual([]);
    const sent = { 'content-length': '1234' };
    const { expected, actual } = await reverify(p, sent);
    expect(actual).toBe(expected);
    const otherKey = await reverify({ ...p, headers: { ...p.headers, 'x-amz-server-side-encryption-aws-kms-key-id': `${kmsKeyId}0` } }, sent);
    expect(otherKey.actual).not.toBe(otherKey.expected);
    const { 'x-amz-server-side-encryption': _sse, 'x-amz-server-side-encryption-aws-kms-key-id': _key, ...unencrypted } = p.headers;
    const dropped = await reverify({ ...p, headers: unencrypted }, sent);
    expect(dropped.actual).not.toBe(dropped.expected);
  });

  it('signs no SSE header into part URLs: CreateMultipartUpload set the upload’s encryption, and UploadPart takes none', async () => {
    const kms = presigner({ encryption: { algorithm: 'aws:kms', kmsKeyId: 'alias/uploads' } });
    const [part] = await kms.uploadParts(key, 'upload-1', [{ partNumber: 1 }]);
    expect(new URL(part.url).searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(part.headers).toEqual({});
    expect((await kms.getObject(key)).headers).toEqual({});
  });

  it('uses virtual-hosted addressing on AWS itself', async () => {
    const p = await presigner({ endpoint: undefined, forcePathStyle: false, region: 'eu-west-1' }).putObject(key, { contentType: 'a/b', contentLength: 1 });
    const url = new URL(p.url);
    expect(url.host).toBe('uploads.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe(`/${key}`);
  });
});

describe('memoizeCredentials', () => {
  it('asks the provider once until the credentials near expiry', async () => {
    const provider = jest.fn(async () => ({ ...credentials, expiration: new Date(Date.now() + 3_600_000) }));
    const memo = memoizeCredentials(provider);
    await Promise.all([memo(), memo(), memo()]);
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('asks again when the credentials are within the refresh margin', async () => {
    const provider = jest.fn(async () => ({ ...credentials, expiration: new Date(Date.now() + 60_000) }));
    const memo = memoizeCredentials(provider);
    await memo();
    await memo();
    expect(provider).toHaveBeenCalledTimes(2);
  });
});
