import { createHash } from 'node:crypto';
import type { FastPresigner } from '@app/storage';
import { createRgwStorage, rgwPresigner, RgwTestStorage, testConfig } from '@app/testing';
import { bytes, errorCode, newKey, send, sleep, tamperedSignature } from './rgw-requests';

/**
 * Issue #12: the single-PUT and GET URLs upload-api issues, against an S3 that checks them (Ceph
 * RGW; moto accepts every tampered request below). Each case names the status RGW answered.
 */
describe('presigned single PUT and GET URLs on an S3 that enforces signatures (Ceph RGW)', () => {
  let rgw: RgwTestStorage;
  let presigner: FastPresigner;
  const body = bytes(64 * 1024);
  const signPut = (key: string, contentType = 'application/pdf', contentLength = body.length) => presigner.putObject(key, { contentType, contentLength });

  beforeAll(async () => {
    rgw = await createRgwStorage(testConfig());
    presigner = rgwPresigner(rgw);
  });
  afterAll(async () => {
    await rgw?.dispose();
  });

  describe('accepted', () => {
    it('a single PUT with exactly its signed headers: 200, and the object holds those bytes and that type', async () => {
      const key = newKey();
      const res = await send(await signPut(key), body);
      expect(res.status).toBe(200);
      const head = await rgw.storage.head(key);
      expect(head).toMatchObject({ size: body.length, contentType: 'application/pdf' });
    });

    it('a presigned GET with response-content-disposition: 200 with that Content-Disposition and the bytes', async () => {
      const key = newKey();
      expect((await send(await signPut(key), body)).status).toBe(200);
      const disposition = `attachment; filename="a b.pdf"; filename*=UTF-8''a%20b.pdf`;
      const res = await send(await presigner.getObject(key, { contentDisposition: disposition, expiresInSeconds: 60 }));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe(disposition);
      const served = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(served).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    });
  });

  describe('refused', () => {
    it('one byte more than the signed content-length: 403', async () => {
      const key = newKey();
      const res = await send(await signPut(key), Buffer.concat([body, Buffer.from([0])]));
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('SignatureDoesNotMatch');
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('one byte less than the signed content-length: 403', async () => {
      const key = newKey();
      const res = await send(await signPut(key), body.subarray(1));
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('another content type than signed: 403', async () => {
      const key = newKey();
      const res = await send(await signPut(key, 'application/pdf'), body, { 'content-type': 'text/html' });
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a signature with one character changed: 403', async () => {
      const key = newKey();
      const p = await signPut(key);
      const res = await send({ ...p, url: tamperedSignature(p.url) }, body);
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('the URL used for another key: 403', async () => {
      const key = newKey();
      const other = newKey();
      const p = await signPut(key);
      const res = await send({ ...p, url: p.url.replace(key, other) }, body);
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(other)).toBeNull();
    });

    it('an expired URL (signed for 1 s, used 2.5 s later): 403', async () => {
      const key = newKey();
      const p = await rgwPresigner(rgw, { expiresInSeconds: 1 }).putObject(key, { contentType: 'application/pdf', contentLength: body.length });
      await sleep(2_500);
      const res = await send(p, body);
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a URL signed with another secret for the same access key: 403', async () => {
      const key = newKey();
      const { accessKeyId } = await rgw.s3.config.credentials();
      const forged = rgwPresigner(rgw, { credentials: { accessKeyId, secretAccessKey: 'not-the-secret' } });
      const res = await send(await forged.putObject(key, { contentType: 'application/pdf', contentLength: body.length }), body);
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('SignatureDoesNotMatch');
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('a PUT with no credentials at all: 403', async () => {
      const key = newKey();
      const p = await signPut(key);
      const res = await send({ ...p, url: p.url.slice(0, p.url.indexOf('?')) }, body);
      expect(res.status).toBe(403);
      expect(await rgw.storage.head(key)).toBeNull();
    });

    it('the single-PUT URL used again once the object exists (If-None-Match: * is signed in): 412, the first bytes stay', async () => {
      const key = newKey();
      const p = await signPut(key);
      expect((await send(p, body)).status).toBe(200);
      const other = Buffer.from(body.map((b) => b ^ 0xff));
      const again = await send(p, other);
      expect(again.status).toBe(412);
      // Dropping the condition to force the overwrite breaks the signature instead.
      const { 'if-none-match': _condition, ...unconditional } = p.headers;
      expect((await send({ ...p, headers: unconditional }, other)).status).toBe(403);
      const stored = await rgw.storage.openReadStream(key);
      const chunks: Buffer[] = [];
      for await (const chunk of stored) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
    });
  });
});
