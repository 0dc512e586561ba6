import { createHash } from 'node:crypto';
import type { FastPresigner } from '@app/storage';
import { createRgwStorage, rgwPresigner, RgwTestStorage, testConfig } from '@app/testing';
import { bytes, MiB, newKey, send, withQuery } from './rgw-requests';

const sha256Base64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

/**
 * Issue #12: multipart part URLs and completion against an S3 that checks them (Ceph RGW), signed
 * as upload-api signs them: with each part's x-amz-checksum-sha256 when the client declared one.
 * RGW does not check checksum values (docs/storage-compatibility.md): the part checksums here only
 * prove that RGW accepts them as signed headers and in the Complete XML.
 */
describe('presigned multipart part URLs and completion on an S3 that enforces signatures (Ceph RGW)', () => {
  let rgw: RgwTestStorage;
  let presigner: FastPresigner;
  const partSize = 5 * MiB;

  beforeAll(async () => {
    rgw = await createRgwStorage(testConfig());
    presigner = rgwPresigner(rgw);
  });
  afterAll(async () => {
    await rgw?.dispose();
  });

  it('accepts every part of a three-part upload (2 x 5 MiB + 1 KiB, with checksums) with 200, and completes it through ObjectStorage', async () => {
    const key = newKey();
    const parts = [bytes(partSize), bytes(partSize), bytes(1024)];
    const uploadId = await rgw.storage.createMultipartUpload(key, { contentType: 'video/mp4', checksumSha256: true });
    const signed = await presigner.uploadParts(
      key,
      uploadId,
      parts.map((b, i) => ({ partNumber: i + 1, checksumSha256: sha256Base64(b) })),
    );
    const answers = await Promise.all(signed.map((p, i) => send(p, parts[i])));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const etags = answers.map((r) => r.headers.get('etag')!.replace(/"/g, ''));

    const stored = await rgw.storage.listParts(key, uploadId);
    expect(stored.map((p) => [p.partNumber, p.size, p.etag])).toEqual(parts.map((b, i) => [i + 1, b.length, etags[i]]));
    await rgw.storage.completeMultipartUpload(
      key,
      uploadId,
      parts.map((b, i) => ({ partNumber: i + 1, etag: etags[i], checksumSha256: sha256Base64(b) })),
    );
    const head = await rgw.storage.head(key);
    expect(head).toMatchObject({ size: 2 * partSize + 1024, contentType: 'video/mp4' });
    expect(head!.etag).toMatch(/-3$/);
  });

  /** A stored two-part upload (5 MiB + 1 KiB) of `key`, with its part ETags. */
  const uploadTwoParts = async (key: string) => {
    const parts = [bytes(partSize), bytes(1024)];
    const uploadId = await rgw.storage.createMultipartUpload(key, { contentType: 'video/mp4', checksumSha256: false });
    const signed = await presigner.uploadParts(key, uploadId, [{ partNumber: 1 }, { partNumber: 2 }]);
    const answers = await Promise.all(signed.map((p, i) => send(p, parts[i])));
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    return { uploadId, parts: answers.map((r, i) => ({ partNumber: i + 1, etag: r.headers.get('etag')!.replace(/"/g, ''), checksumSha256: null })) };
  };

  it('RGW differs from AWS: Complete answers an empty ETag, and completing with fewer parts than uploaded is 400 InvalidPart', async () => {
    const key = newKey();
    const { uploadId, parts } = await uploadTwoParts(key);
    await expect(rgw.storage.completeMultipartUpload(key, uploadId, parts.slice(0, 1))).rejects.toMatchObject({
      code: 'storage_error',
      extra: { storageError: 'InvalidPart', storageStatus: 400 },
    });
    // ObjectStorage's callers read the ETag from HeadObject, never from this answer.
    await expect(rgw.storage.completeMultipartUpload(key, uploadId, parts)).resolves.toEqual({ etag: null });
    expect((await rgw.storage.head(key))?.etag).toMatch(/-2$/);
  });

  it('RGW 16.2 ignores If-None-Match: * on CompleteMultipartUpload (AWS answers 412): a second completion replaces the object', async () => {
    const key = newKey();
    const first = await uploadTwoParts(key);
    await rgw.storage.completeMultipartUpload(key, first.uploadId, first.parts);
    const before = await rgw.storage.head(key);
    const second = await uploadTwoParts(key);
    // ObjectStorage sends IfNoneMatch: '*'; on AWS (and moto) this rejects with storage_error 412.
    await expect(rgw.storage.completeMultipartUpload(key, second.uploadId, second.parts)).resolves.toEqual({ etag: null });
    expect((await rgw.storage.head(key))?.etag).not.toBe(before?.etag);
  });

  it('refuses a part URL used for another part number with 403, and the part is not stored', async () => {
    const key = newKey();
    const uploadId = await rgw.storage.createMultipartUpload(key, { contentType: 'video/mp4', checksumSha256: false });
    const [first] = await presigner.uploadParts(key, uploadId, [{ partNumber: 1 }]);
    const res = await send({ ...first, url: withQuery(first.url, 'partNumber', '2') }, bytes(partSize));
    expect(res.status).toBe(403);
    expect(await rgw.storage.listParts(key, uploadId)).toEqual([]);
    await rgw.storage.abortMultipartUpload(key, uploadId);
  });

  it('refuses a part URL used for another upload of the same key with 403', async () => {
    const key = newKey();
    const mine = await rgw.storage.createMultipartUpload(key, { contentType: 'video/mp4', checksumSha256: false });
    const theirs = await rgw.storage.createMultipartUpload(key, { contentType: 'video/mp4', checksumSha256: false });
    const [part] = await presigner.uploadParts(key, mine, [{ partNumber: 1 }]);
    const res = await send({ ...part, url: withQuery(part.url, 'uploadId', theirs) }, bytes(1024));
    expect(res.status).toBe(403);
    expect(await rgw.storage.listParts(key, theirs)).toEqual([]);
    await rgw.storage.abortMultipartUpload(key, mine);
    await rgw.storage.abortMultipartUpload(key, theirs);
  });
});
