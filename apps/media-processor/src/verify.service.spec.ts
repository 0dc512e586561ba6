import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { FileStatusName } from '@app/contracts';
import type { FileRecord, FileRepository, TenantRepository } from '@app/database';
import { VERIFIABLE } from '@app/lifecycle';
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
const OTHER_SHA = 'b'.repeat(64);

/** `scanUploads` false by default here: these tests are about verification and routing; the scan has its own below. */
function setup(opts: { file?: Partial<FileRecord>; inspection?: Partial<Inspection>; allowedTypes?: string[]; scanUploads?: boolean } = {}) {
  const file = aFile({ status: 'uploaded', size: 4096n, contentType: 'image/jpeg', ...opts.file });
  const stream = Readable.from([Buffer.from('stored bytes')]);
  const inspectMock = jest.mocked(inspect).mockReset();
  inspectMock.mockResolvedValue({ size: Number(file.size), sha256: SHA, detectedType: 'image/jpeg', ...opts.inspection });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    // The real guard's contract: the file while it is in one of the expected statuses, else why not.
    reread: async (fileId, expected) => {
      const statuses: readonly FileStatusName[] = typeof expected === 'string' ? [expected] : expected;
      return fileId === file.id && statuses.includes(file.status) ? { file } : { skipped: `skipped:${file.status}` };
    },
    startProcessing: async () => ({ ...file, status: 'processing' }),
    rejectContent: async (f) => ({ ...f, status: 'rejected' }),
    markReady: async () => ({ ...file, status: 'ready' }),
  });
  const files = strictMock<FileRepository>('files', { setVerified: async () => undefined });
  const tenants = strictMock<TenantRepository>('tenants', {
    find: async () => aTenant({ id: file.tenantId, allowedTypes: opts.allowedTypes ?? [], scanUploads: opts.scanUploads ?? false }),
  });
  const storage = strictMock<ObjectStorage>('storage', { openReadStream: async () => stream });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  // A mock has only the public members: the classes' private fields make the casts necessary.
  const service = new VerifyService(files, tenants, storage, jobs, lifecycle, new MediaRouter(files, jobs, lifecycle));
  const calls = () => callsInOrder({ lifecycle, files, tenants, storage, jobs, media: { inspect: inspectMock } });
  /** What every verification that gets past the guard does first: processing, one read, the tenant's rules. */
  const verification = [
    ['lifecycle.reread', file.id, VERIFIABLE],
    ['lifecycle.startProcessing', file.id],
    ['storage.openReadStream', file.storageKey],
    ['media.inspect', stream],
    ['tenants.find', file.tenantId],
  ];
  return { file, service, calls, verification };
}

describe('VerifyService', () => {
  it.each(['pending', 'completing', 'ready', 'failed', 'rejected', 'deleted'] as const)(
    'skips a file that is %s without reading its bytes or changing it',
    async (status) => {
      const { file, service, calls } = setup({ file: { status } });
      await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: `skipped:${status}` });
      expect(calls()).toEqual([['lifecycle.reread', file.id, VERIFIABLE]]);
    },
  );

  it.each(['uploaded', 'processing'] as const)('verifies a file that is %s, moving it to processing before reading the bytes', async (status) => {
    // `processing` too: a job interrupted after the transition runs again from the start.
    const { file, service, calls, verification } = setup({ file: { status, contentType: 'application/pdf' }, inspection: { detectedType: 'application/pdf' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls().slice(0, verification.length)).toEqual(verification);
  });

  it('rejects a file whose stored size differs from the declared one, keeping the detected type', async () => {
    const { file, service, calls, verification } = setup({ inspection: { size: 4095 } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([
      ...verification,
      ['lifecycle.rejectContent', file, 'size_mismatch: read 4095 bytes, 4096 declared', { detectedType: 'image/jpeg' }],
    ]);
  });

  it('rejects a file whose bytes do not hash to the declared SHA-256', async () => {
    const { file, service, calls, verification } = setup({ file: { declaredSha256: OTHER_SHA } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([
      ...verification,
      ['lifecycle.rejectContent', file, 'sha256_mismatch: the bytes do not hash to the declared SHA-256', { detectedType: 'image/jpeg' }],
    ]);
  });

  it('rejects a file whose real type the tenant does not allow, whatever type was declared', async () => {
    const { file, service, calls, verification } = setup({
      file: { contentType: 'image/jpeg' },
      inspection: { detectedType: 'application/x-msdownload' },
      allowedTypes: ['image/*'],
    });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([
      ...verification,
      [
        'lifecycle.rejectContent',
        file,
        'type_not_allowed: the content is application/x-msdownload, declared image/jpeg',
        { detectedType: 'application/x-msdownload' },
      ],
    ]);
  });

  it.each([
    ['an image', 'image/png'],
    ['another type', 'application/pdf'],
  ])('sends %s of a tenant that scans uploads to the malware scan first, saving the verified facts', async (_, type) => {
    const { file, service, calls, verification } = setup({ file: { contentType: type }, inspection: { detectedType: type }, scanUploads: true });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.scan' });
    expect(calls()).toEqual([
      ...verification,
      ['files.setVerified', file.id, { sha256: SHA, detectedType: type }],
      ['jobs.enqueue', 'media.scan', { v: 1, fileId: file.id }, { jobId: `media.scan-${file.id}`, rerun: true }],
    ]);
  });

  it('routes a verified image to the image queue under its type as detected, saving the verified facts first', async () => {
    const { file, service, calls, verification } = setup({
      file: { contentType: 'image/x-png', declaredSha256: SHA },
      inspection: { detectedType: 'image/png' },
      allowedTypes: ['image/*'],
    });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
    expect(calls()).toEqual([
      ...verification,
      ['files.setVerified', file.id, { sha256: SHA, detectedType: 'image/png' }],
      // rerun: a reprocess finds the earlier run's finished job under the same id.
      ['jobs.enqueue', 'media.image', { v: 1, fileId: file.id }, { jobId: `media.image-${file.id}`, rerun: true }],
    ]);
  });

  it('routes a verified video to the video queue', async () => {
    const { file, service, calls, verification } = setup({ file: { contentType: 'video/quicktime' }, inspection: { detectedType: 'video/mp4' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.video' });
    expect(calls()).toEqual([
      ...verification,
      ['files.setVerified', file.id, { sha256: SHA, detectedType: 'video/mp4' }],
      ['jobs.enqueue', 'media.video', { v: 1, fileId: file.id }, { jobId: `media.video-${file.id}`, rerun: true }],
    ]);
  });

  it.each([
    ['video/x-matroska', 'video/matroska'],
    ['video/x-msvideo', 'video/vnd.avi'],
  ])('routes a video declared %s and detected as %s (the names detection gives) to the video queue', async (declared, detected) => {
    const { file, service } = setup({ file: { contentType: declared }, inspection: { detectedType: detected } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.video' });
  });

  it('makes a verified file of another type ready with its hash and detected type', async () => {
    const { file, service, calls, verification } = setup({ file: { contentType: 'application/pdf' }, inspection: { detectedType: 'application/pdf' } });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toEqual([
      ...verification,
      ['lifecycle.markReady', file.id, { sha256: SHA, detectedType: 'application/pdf' }, { detectedType: 'application/pdf', sha256: SHA, size: 4096 }],
    ]);
  });

  it('keeps the declared type of a format without magic bytes, and judges it by that type', async () => {
    const { file, service, calls, verification } = setup({ file: { contentType: 'text/csv' }, inspection: { detectedType: null }, allowedTypes: ['text/*'] });
    await expect(service.verify({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toEqual([
      ...verification,
      ['lifecycle.markReady', file.id, { sha256: SHA, detectedType: 'text/csv' }, { detectedType: 'text/csv', sha256: SHA, size: 4096 }],
    ]);

    // Bytes no magic matches under an image's name go to the image queue, whose decoding decides.
    const unknown = setup({ file: { contentType: 'image/jpeg' }, inspection: { detectedType: null } });
    await expect(unknown.service.verify({ v: 1, fileId: unknown.file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
    expect(unknown.calls()).toContainEqual(['files.setVerified', unknown.file.id, { sha256: SHA, detectedType: 'image/jpeg' }]);

    const refused = setup({ file: { contentType: 'text/csv' }, inspection: { detectedType: null }, allowedTypes: ['image/*'] });
    await expect(refused.service.verify({ v: 1, fileId: refused.file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(refused.calls()).toEqual([
      ...refused.verification,
      ['lifecycle.rejectContent', refused.file, 'type_not_allowed: the content is text/csv, declared text/csv', { detectedType: null }],
    ]);
  });
});
