import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { FileRecord, FileRepository, TenantRecord, TenantRepository } from '@app/database';
import type { FileLifecycle } from '@app/lifecycle';
import { inspect } from '@app/media';
import type { Inspection } from '@app/media';
import type { JobQueue } from '@app/queue';
import type { ObjectStorage } from '@app/storage';
import { aFile, aTenant, strictMock, callsInOrder } from '@app/testing';
import { MediaRouter } from './media-router';
import { VerifyService } from './verify.service';

// swc rewrites `@app/media` to this relative path in the compiled service (jest.config.js), and jest
// matches mocks by resolved file: mocking the alias would leave the service on the real inspect.
jest.mock('../../../libs/media/src', () => ({ ...jest.requireActual('../../../libs/media/src'), inspect: jest.fn() }));

Logger.overrideLogger(['error']);

const SHA = 'a'.repeat(64);

/** Verification of `file` whose bytes inspect as `inspection`, for a tenant allowing images. */
function setup(opts: { file: Partial<FileRecord>; inspection: Partial<Inspection>; tenant?: Partial<TenantRecord> }) {
  const file = aFile({ status: 'uploaded', size: 139n, ...opts.file });
  jest
    .mocked(inspect)
    .mockReset()
    .mockResolvedValue({ size: Number(file.size), sha256: SHA, detectedType: null, ...opts.inspection });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reread: async () => ({ file }),
    startProcessing: async () => ({ ...file, status: 'processing' }),
    rejectContent: async (f) => ({ ...f, status: 'rejected' }),
    markReady: async () => ({ ...file, status: 'ready' }),
  });
  const files = strictMock<FileRepository>('files', { setVerified: async () => undefined });
  const tenants = strictMock<TenantRepository>('tenants', {
    find: async () => aTenant({ id: file.tenantId, allowedTypes: ['image/*'], scanUploads: false, ...opts.tenant }),
  });
  const storage = strictMock<ObjectStorage>('storage', { openReadStream: async () => Readable.from([Buffer.from('stored bytes')]) });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  const service = new VerifyService(files, tenants, storage, jobs, lifecycle, new MediaRouter(files, jobs, lifecycle));
  /** What verification decided: everything after reading the bytes and the tenant. */
  const decision = () => callsInOrder({ lifecycle, files, jobs }).filter(([name]) => name !== 'lifecycle.reread' && name !== 'lifecycle.startProcessing');
  return { file, service, decision };
}

describe('VerifyService and a declared type the content disagrees with (issue #11)', () => {
  it('rejects an SVG declared as image/png, naming both types, so no image worker ever decodes it', async () => {
    const { file, service, decision } = setup({ file: { contentType: 'image/png' }, inspection: { detectedType: 'image/svg+xml' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(decision()).toEqual([
      ['lifecycle.rejectContent', file, 'type_mismatch: declared image/png, content is image/svg+xml', { detectedType: 'image/svg+xml' }],
    ]);
  });

  it('rejects text declared as an image, for a tenant allowing every type', async () => {
    const { file, service, decision } = setup({
      file: { contentType: 'image/jpeg' },
      inspection: { detectedType: 'text/plain' },
      tenant: { allowedTypes: [] },
    });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(decision()).toEqual([
      ['lifecycle.rejectContent', file, 'type_mismatch: declared image/jpeg, content is text/plain', { detectedType: 'text/plain' }],
    ]);
  });

  it('still routes a PNG declared as image/png to the image queue', async () => {
    const { file, service, decision } = setup({ file: { contentType: 'image/png' }, inspection: { detectedType: 'image/png' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
    expect(decision()).toEqual([
      ['files.setVerified', file.id, { sha256: SHA, detectedType: 'image/png' }],
      ['jobs.enqueue', 'media.image', { v: 1, fileId: file.id }, { jobId: `media.image-${file.id}`, rerun: true }],
    ]);
  });

  it('takes the detected type of content declared application/octet-stream, which claims nothing', async () => {
    const { file, service, decision } = setup({ file: { contentType: 'application/octet-stream' }, inspection: { detectedType: 'image/png' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
    expect(decision()[0]).toEqual(['files.setVerified', file.id, { sha256: SHA, detectedType: 'image/png' }]);
  });
});

describe('VerifyService and SVG rasterization', () => {
  it.each([
    ['declared as such', 'image/svg+xml'],
    ['declared application/octet-stream', 'application/octet-stream'],
  ])('makes an SVG %s ready as it is, with no raster variants, for a tenant that has not opted in', async (_, contentType) => {
    const { file, service, decision } = setup({ file: { contentType }, inspection: { detectedType: 'image/svg+xml' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(decision()).toEqual([
      ['lifecycle.markReady', file.id, { sha256: SHA, detectedType: 'image/svg+xml' }, { detectedType: 'image/svg+xml', sha256: SHA, size: 139 }],
    ]);
  });

  it('routes an SVG to the image queue for a tenant that allows SVG rendering', async () => {
    const { file, service, decision } = setup({
      file: { contentType: 'image/svg+xml' },
      inspection: { detectedType: 'image/svg+xml' },
      tenant: { allowSvgRendering: true },
    });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
    expect(decision()).toEqual([
      ['files.setVerified', file.id, { sha256: SHA, detectedType: 'image/svg+xml' }],
      ['jobs.enqueue', 'media.image', { v: 1, fileId: file.id }, { jobId: `media.image-${file.id}`, rerun: true }],
    ]);
  });
});
