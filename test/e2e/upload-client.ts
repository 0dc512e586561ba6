import { request } from 'node:http';

/** A minimal raw client of the HTTP contract, for tests (the SDK has its own tests). */
export class RawClient {
  constructor(
    readonly baseUrl: string,
    readonly auth: Record<string, string>,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** initiate -> PUT the bytes (one PUT or every part) -> complete (multipart). Returns the upload id. */
  async upload(bytes: Buffer, filename = 'file.bin', contentType = 'application/octet-stream'): Promise<string> {
    const init = await this.call('POST', '/v1/uploads', { filename, size: bytes.length, contentType });
    if (init.status !== 201) throw new Error(`initiate answered ${init.status}: ${JSON.stringify(init.body)}`);
    if (init.body.mode === 'single') {
      const put = await fetch(init.body.upload.url, { method: 'PUT', headers: init.body.upload.headers, body: new Uint8Array(bytes) });
      if (put.status !== 200) throw new Error(`PUT answered ${put.status}`);
      return init.body.id as string;
    }
    const { partSize, partCount, id } = init.body as { partSize: number; partCount: number; id: string };
    const signed = await this.call('POST', `/v1/uploads/${id}/parts`, { partNumbers: Array.from({ length: partCount }, (_, i) => i + 1) });
    await Promise.all(
      (signed.body.parts as Array<{ partNumber: number; url: string; headers: Record<string, string> }>).map(async (p) => {
        const chunk = bytes.subarray((p.partNumber - 1) * partSize, p.partNumber * partSize);
        const res = await fetch(p.url, { method: 'PUT', headers: p.headers, body: new Uint8Array(chunk) });
        if (res.status !== 200) throw new Error(`part ${p.partNumber} answered ${res.status}`);
      }),
    );
    const done = await this.call('POST', `/v1/uploads/${id}/complete`, {});
    if (done.status !== 202 && done.status !== 200) throw new Error(`complete answered ${done.status}: ${JSON.stringify(done.body)}`);
    return id;
  }
}

/** A PUT that ignores the signed length and sends more bytes (what S3 would refuse and moto accepts). */
export function putRaw(url: string, contentType: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-type': contentType, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
