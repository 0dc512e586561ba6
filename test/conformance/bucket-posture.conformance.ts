import { GetBucketPolicyCommand, GetPublicAccessBlockCommand, PutObjectCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { BucketPostureInspector, ensureBucket, parsePolicy } from '@app/storage';
import { createRgwStorage, rgwPresigner, RgwTestStorage, testConfig, testPosture, TestCdnEnv } from '@app/testing';
import { bytes, errorCode, newKey, send } from './rgw-requests';

/**
 * Issue #15's bucket posture on an S3 that enforces bucket policies and Block Public Access (Ceph
 * RGW; moto enforces a policy's denies but grants every anonymous read). The test RGW is plain
 * http, so the posture has no TLS statement there; RGW 16 has no bucket encryption API, so none.
 * What RGW holds: three of the four public-access flags and the self-hosted CDN's grant by address.
 */
describe('the bucket posture on Ceph RGW', () => {
  const nginxFrom = (cidr: string): TestCdnEnv => ({ CDN: 'nginx', CDN_ORIGIN_SOURCE_CIDRS: [cidr] });
  let rgw: RgwTestStorage;
  const anonymous = (key: string, bucket = rgw.env.S3_BUCKET) => fetch(`${rgw.env.S3_ENDPOINT}/${bucket}/${key}`);

  beforeAll(async () => {
    // The tests reach RGW from 127.0.0.1: the CDN's address here.
    rgw = await createRgwStorage(testConfig(), { cdn: nginxFrom('127.0.0.1/32') });
  });
  afterAll(async () => {
    await rgw?.dispose();
  });

  it('reads back as bootstrapped: the public-access block without BlockPublicAcls, the CDN’s grant by address, nothing differing', async () => {
    const Bucket = rgw.env.S3_BUCKET;
    expect((await rgw.s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(parsePolicy((await rgw.s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy!).Statement).toEqual([
      {
        Sid: 'CdnReadsDeliveryPrefixes',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: [`arn:aws:s3:::${Bucket}/variants/*`],
        Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.1/32'] } },
      },
    ]);
    const posture = testPosture(rgw.env, nginxFrom('127.0.0.1/32'));
    expect(await new BucketPostureInspector(rgw.s3, posture).inspect()).toEqual({
      bucket: Bucket,
      checked: ['cors', 'lifecycle', 'policy', 'public-access-block'],
      drift: [],
      unreadable: [],
    });
    // Bootstrapping again changes nothing RGW reports.
    await ensureBucket(rgw.s3, posture);
    expect((await new BucketPostureInspector(rgw.s3, posture).inspect()).drift).toEqual([]);
  });

  it('lets the CDN’s address read variants, and nothing else: not an original, not the quarantine, not a listing', async () => {
    const Bucket = rgw.env.S3_BUCKET;
    // Uploads still work under the block: a presigned PUT as clients send it.
    const upload = newKey();
    const body = bytes(1024);
    expect((await send(await rgwPresigner(rgw).putObject(upload, { contentType: 'application/pdf', contentLength: body.length }), body)).status).toBe(200);
    const variant = `variants/${randomUUID()}/${randomUUID()}/thumb.0123456789abcdef`;
    const quarantined = `quarantine/${randomUUID()}/${randomUUID()}`;
    await rgw.s3.send(new PutObjectCommand({ Bucket, Key: variant, Body: 'webp' }));
    await rgw.s3.send(new PutObjectCommand({ Bucket, Key: quarantined, Body: 'eicar' }));

    // An original reaches the CDN only as a presigned request (docs/delivery.md): unsigned, never.
    const original = await anonymous(upload);
    expect([original.status, await errorCode(original)]).toEqual([403, 'AccessDenied']);
    expect((await anonymous(variant)).status).toBe(200);
    const refused = await anonymous(quarantined);
    expect([refused.status, await errorCode(refused)]).toEqual([403, 'AccessDenied']);
    expect((await fetch(`${rgw.env.S3_ENDPOINT}/${Bucket}?list-type=2`)).status).toBe(403);
  });

  it('lets no other address read anything', async () => {
    const elsewhere = await createRgwStorage(testConfig(), { cdn: nginxFrom('10.0.0.0/8') });
    try {
      const key = newKey();
      await elsewhere.s3.send(new PutObjectCommand({ Bucket: elsewhere.env.S3_BUCKET, Key: key, Body: 'x' }));
      const res = await anonymous(key, elsewhere.env.S3_BUCKET);
      expect([res.status, await errorCode(res)]).toEqual([403, 'AccessDenied']);
    } finally {
      await elsewhere.dispose();
    }
  });

  it('refuses every upload under BlockPublicAcls (ceph tracker #49135), which is why RGW runs without it', async () => {
    // Recorded so docs/storage-compatibility.md and S3_BLOCK_PUBLIC_ACCESS's advice go stale loudly
    // when an RGW with the fix (ceph/ceph#64290) runs here.
    const blocked = await createRgwStorage(testConfig());
    try {
      const Bucket = blocked.env.S3_BUCKET;
      await blocked.s3.send(
        new PutPublicAccessBlockCommand({
          Bucket,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
        }),
      );
      const body = bytes(16);
      const res = await send(await rgwPresigner(blocked).putObject(newKey(), { contentType: 'application/pdf', contentLength: body.length }), body);
      expect([res.status, await errorCode(res)]).toEqual([403, 'AccessDenied']);
    } finally {
      await blocked.dispose();
    }
  });
});
