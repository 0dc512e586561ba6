import { testConfig } from '@app/testing';
import { ApiHarness, createTenant, startApi } from './api-harness';

const MiB = 1024 ** 2;

/**
 * S3_PUBLIC_ENDPOINT (issue #16): where clients reach storage when the services reach it elsewhere
 * (docker-compose: moto:5000 inside, 127.0.0.1:5055 on the host). Here the services use
 * 127.0.0.1 and clients `localhost`, both the same moto.
 */
describe('upload-api with a public storage endpoint', () => {
  let api: ApiHarness;
  let tenant: { id: string; apiKey: string };
  const publicEndpoint = testConfig().TEST_MOTO_URL.replace('127.0.0.1', 'localhost');
  const as = { headers: { 'x-owner-id': 'alice' } };

  beforeAll(async () => {
    api = await startApi({ S3_PUBLIC_ENDPOINT: publicEndpoint });
    tenant = await createTenant(api, { quotaBytes: 1024 ** 3 });
  });
  afterAll(async () => {
    await api.close();
  });

  it('signs single PUTs, POST policies and part URLs for the public endpoint, and they store the bytes', async () => {
    const single = await api.request('POST', '/v1/uploads', {
      token: tenant.apiKey,
      ...as,
      body: { filename: 'a.txt', size: 5, contentType: 'text/plain', form: true },
    });
    expect(single.status).toBe(201);
    expect(new URL(single.body.upload.url).origin).toBe(publicEndpoint);
    expect(new URL(single.body.form.url).origin).toBe(publicEndpoint);
    expect((await fetch(single.body.upload.url, { method: 'PUT', headers: single.body.upload.headers, body: 'hello' })).status).toBe(200);

    // The multipart upload itself is created by the API at S3_ENDPOINT; its part URLs are the client's.
    const multipart = await api.request('POST', '/v1/uploads', {
      token: tenant.apiKey,
      ...as,
      body: { filename: 'b.bin', size: 20 * MiB, contentType: 'application/octet-stream' },
    });
    expect(multipart.status).toBe(201);
    expect(multipart.body.mode).toBe('multipart');
    expect(new URL(multipart.body.parts[0].url).origin).toBe(publicEndpoint);
  });
});
