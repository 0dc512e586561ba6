import { Logger } from '@nestjs/common';
import type { UploadsEnv } from '@app/config';
import { CreateUploadBody, DomainError, FileStatusName } from '@app/contracts';
import type { FilePartRepository, FileRecord, FileRepository, TenantRecord, TenantRepository } from '@app/database';
import type { FileLifecycle } from '@app/lifecycle';
import type { JobQueue } from '@app/queue';
import { FastPresigner, KeyLayout, ObjectStorage, PartSigning, PostPolicySigner, StoredPart } from '@app/storage';
import { aFile, aFileWithVariants, aMultipartUpload, aTenant, strictMock, StrictMock, TEST_TENANT_ID } from '@app/testing';
import { uploadDeadline, UploadsService } from './uploads.service';

const MiB = 1024 ** 2;
const NOW = new Date('2026-11-30T12:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = 'ab'.repeat(32);
const SHA256_BASE64 = Buffer.from(SHA256, 'hex').toString('base64');
const URL_EXPIRY = new Date('2026-11-30T12:15:00.000Z');

const scope = { tenantId: TEST_TENANT_ID, ownerId: 'alice' };
const config: UploadsEnv = {
  UPLOAD_EXPIRY_SECONDS: 3600,
  UPLOAD_EXPIRY_BYTES_PER_SECOND: 0,
  MULTIPART_THRESHOLD_BYTES: 16 * MiB,
  MIN_PART_BYTES: 8 * MiB,
  INITIAL_PART_URLS: 4,
};

interface Deps {
  files: StrictMock<FileRepository>;
  lifecycle: StrictMock<FileLifecycle>;
  tenants: StrictMock<TenantRepository>;
  storage: StrictMock<ObjectStorage>;
  presigner: StrictMock<FastPresigner>;
  postPolicy: StrictMock<PostPolicySigner>;
  jobs: StrictMock<JobQueue>;
  parts: StrictMock<FilePartRepository>;
}

/** The service over strict mocks: a dependency a test does not hand in throws when touched. */
function serviceWith(given: Partial<Deps> = {}) {
  const deps: Deps = {
    files: given.files ?? strictMock<FileRepository>('files'),
    lifecycle: given.lifecycle ?? strictMock<FileLifecycle>('lifecycle'),
    tenants: given.tenants ?? strictMock<TenantRepository>('tenants'),
    storage: given.storage ?? strictMock<ObjectStorage>('storage'),
    presigner: given.presigner ?? strictMock<FastPresigner>('presigner'),
    postPolicy: given.postPolicy ?? strictMock<PostPolicySigner>('postPolicy'),
    jobs: given.jobs ?? strictMock<JobQueue>('jobs'),
    parts: given.parts ?? strictMock<FilePartRepository>('parts'),
  };
  // A mock has only the public members: the classes' private fields make the casts necessary.
  const service = new UploadsService(
    config,
    deps.files as unknown as FileRepository,
    deps.lifecycle as unknown as FileLifecycle,
    deps.tenants as unknown as TenantRepository,
    deps.storage as unknown as ObjectStorage,
    deps.presigner as unknown as FastPresigner,
    deps.postPolicy as unknown as PostPolicySigner,
    new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' }),
    deps.jobs as unknown as JobQueue,
    deps.parts as unknown as FilePartRepository,
  );
  return { service, ...deps };
}

const tenantsHolding = (tenant: TenantRecord | null) => strictMock<TenantRepository>('tenants', { find: async () => tenant });
const filesOwning = (...answers: Array<FileRecord | null>) =>
  strictMock<FileRepository>('files', { findOwned: async () => (answers.length > 1 ? answers.shift()! : answers[0]) });
/** A lifecycle that creates the upload it is given (quota admitting it), or refuses it (null). */
const creatingUploads = (admit = true) =>
  strictMock<FileLifecycle>('lifecycle', { createUpload: async (u) => (admit ? aFile({ ...u, metadata: u.metadata ?? null }) : null) });
const presigning = () =>
  strictMock<FastPresigner>('presigner', {
    putObject: async (key) => ({ method: 'PUT', url: `https://s3.test/${key}`, headers: { 'content-type': 'image/jpeg' }, expiresAt: URL_EXPIRY }),
    uploadParts: async (key, uploadId, parts: PartSigning[]) =>
      parts.map((p) => ({
        method: 'PUT' as const,
        url: `https://s3.test/${key}?uploadId=${uploadId}&partNumber=${p.partNumber}`,
        headers: {},
        expiresAt: URL_EXPIRY,
        partNumber: p.partNumber,
      })),
  });
const partUrl = (key: string, partNumber: number) => ({
  partNumber,
  url: `https://s3.test/${key}?uploadId=s3-up-1&partNumber=${partNumber}`,
  headers: {},
  expiresAt: URL_EXPIRY.toISOString(),
});
const body = (overrides: Partial<CreateUploadBody> = {}): CreateUploadBody => ({ filename: 'photo.jpg', size: 1024, contentType: 'image/jpeg', ...overrides });

/** The DomainError a call rejects with (failing the test if it resolves or throws anything else). */
async function domainError(promise: Promise<unknown>): Promise<{ code: string; extra: Record<string, unknown> }> {
  const error = await promise.then(
    () => {
      throw new Error('expected a DomainError, but the call succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  const { code, extra } = error as DomainError;
  return { code, extra };
}

beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('UploadsService.initiate', () => {
  it('refuses a credential whose tenant no longer exists', async () => {
    const { service, tenants } = serviceWith({ tenants: tenantsHolding(null) });
    await expect(domainError(service.initiate(scope, body()))).resolves.toEqual({ code: 'unauthorized', extra: {} });
    expect(tenants.find).toHaveBeenCalledWith(TEST_TENANT_ID);
  });

  it("refuses a file larger than the tenant's limit, naming the limit", async () => {
    const { service } = serviceWith({ tenants: tenantsHolding(aTenant({ maxFileBytes: 1000n })) });
    await expect(domainError(service.initiate(scope, body({ size: 1001 })))).resolves.toEqual({ code: 'file_too_large', extra: { maxFileBytes: 1000 } });
  });

  it('refuses a content type the tenant does not allow, naming the allowed ones', async () => {
    const { service } = serviceWith({ tenants: tenantsHolding(aTenant({ allowedTypes: ['image/*'] })) });
    await expect(domainError(service.initiate(scope, body({ contentType: 'video/mp4' })))).resolves.toEqual({
      code: 'type_not_allowed',
      extra: { allowedTypes: ['image/*'] },
    });
  });

  describe('instant upload', () => {
    it.each([
      ['owner', 'alice'],
      ['tenant', null],
    ] as const)('with dedup scope %s, copies a ready file of the same content found in that scope', async (dedupScope, ownerId) => {
      const source = aFileWithVariants({ status: 'ready', ownerId: 'bob', sha256: SHA256, size: 1024n });
      const files = strictMock<FileRepository>('files', { findDedupSource: async () => source });
      const lifecycle = strictMock<FileLifecycle>('lifecycle', {
        createInstantCopy: async (_source, copy) =>
          aFile({ id: copy.id, ownerId: copy.ownerId, filename: copy.filename, status: 'ready', contentType: 'image/png' }),
      });
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant({ dedupScope })), files, lifecycle });

      const result = await service.initiate(scope, body({ filename: 'mine.png', contentType: 'image/png', sha256: SHA256, metadata: { album: 'x' } }));

      expect(files.findDedupSource).toHaveBeenCalledWith({ tenantId: TEST_TENANT_ID, ownerId, sha256: SHA256, size: 1024n, status: 'ready' });
      expect(lifecycle.createInstantCopy).toHaveBeenCalledTimes(1);
      expect(lifecycle.createInstantCopy).toHaveBeenCalledWith(source, {
        id: expect.stringMatching(UUID),
        ownerId: 'alice',
        filename: 'mine.png',
        metadata: { album: 'x' },
      });
      const copyId = lifecycle.createInstantCopy.mock.calls[0][1].id;
      expect(result).toEqual({ id: copyId, status: 'ready', deduplicated: true, mode: 'single', filename: 'mine.png', size: 1024, contentType: 'image/png' });
    });

    it('refuses the copy when it would exceed the quota', async () => {
      const files = strictMock<FileRepository>('files', { findDedupSource: async () => aFileWithVariants({ status: 'ready', sha256: SHA256 }) });
      const lifecycle = strictMock<FileLifecycle>('lifecycle', { createInstantCopy: async () => null });
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant()), files, lifecycle });
      await expect(domainError(service.initiate(scope, body({ sha256: SHA256 })))).resolves.toEqual({ code: 'quota_exceeded', extra: {} });
    });
  });

  describe('single PUT', () => {
    it('creates the upload (without part checksums) and answers a presigned PUT carrying the declared sha256', async () => {
      const files = strictMock<FileRepository>('files', { findDedupSource: async () => null });
      const lifecycle = creatingUploads();
      const presigner = presigning();
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant()), files, lifecycle, presigner });

      const result = await service.initiate(scope, body({ sha256: SHA256, checksum: 'sha256', metadata: { album: 'x' } }));

      expect(lifecycle.createUpload).toHaveBeenCalledTimes(1);
      const [upload] = lifecycle.createUpload.mock.calls[0];
      expect(upload).toEqual({
        id: expect.stringMatching(UUID),
        tenantId: TEST_TENANT_ID,
        ownerId: 'alice',
        filename: 'photo.jpg',
        contentType: 'image/jpeg',
        size: 1024n,
        declaredSha256: SHA256,
        storageKey: `uploads/${TEST_TENANT_ID}/${upload.id}`,
        mode: 'single',
        partSize: null,
        partCount: null,
        checksumAlgorithm: null,
        metadata: { album: 'x' },
        // Outside an HTTP request there is no request id to record.
        requestId: null,
        expiresAt: new Date(NOW.getTime() + 3600_000),
      });
      expect(presigner.putObject).toHaveBeenCalledWith(upload.storageKey, { contentType: 'image/jpeg', contentLength: 1024, checksumSha256: SHA256_BASE64 });
      expect(result).toEqual({
        id: upload.id,
        status: 'pending',
        mode: 'single',
        size: 1024,
        expiresAt: '2026-11-30T13:00:00.000Z',
        upload: { method: 'PUT', url: `https://s3.test/${upload.storageKey}`, headers: { 'content-type': 'image/jpeg' } },
      });
    });

    it('signs no checksum and looks for no dedup source when no sha256 was declared', async () => {
      const presigner = presigning();
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant()), lifecycle: creatingUploads(), presigner });
      await service.initiate(scope, body());
      expect(presigner.putObject).toHaveBeenCalledWith(expect.any(String), { contentType: 'image/jpeg', contentLength: 1024, checksumSha256: undefined });
    });

    it('answers a POST policy too, pinned like the PUT (key, type, size, declared sha256), when the client asks for a form upload', async () => {
      const postPolicy = strictMock<PostPolicySigner>('postPolicy', {
        postObject: async () => ({ method: 'POST', url: 'https://s3.test/uploads', fields: { key: 'k', policy: 'p' }, expiresAt: URL_EXPIRY }),
      });
      const files = strictMock<FileRepository>('files', { findDedupSource: async () => null });
      const presigner = presigning();
      const { service } = serviceWith({ files, tenants: tenantsHolding(aTenant()), lifecycle: creatingUploads(), presigner, postPolicy });
      // 40 MiB: above the multipart threshold, but a form POST is one request.
      const answer = await service.initiate(scope, body({ size: 40 * MiB, sha256: SHA256, form: true }));
      expect(answer).toMatchObject({
        mode: 'single',
        upload: { method: 'PUT' },
        form: { method: 'POST', url: 'https://s3.test/uploads', fields: { key: 'k', policy: 'p' } },
      });
      const signing = { contentType: 'image/jpeg', contentLength: 40 * MiB, checksumSha256: SHA256_BASE64 };
      expect(postPolicy.postObject).toHaveBeenCalledWith(expect.stringMatching(/^uploads\//), signing);
      expect(presigner.putObject).toHaveBeenCalledWith(postPolicy.postObject.mock.calls[0][0], signing);
    });

    it.each([
      ['with a part size', { partSize: 8 * MiB }, /takes no partSize/],
      ['past 5 GiB', { size: 5 * 1024 ** 3 + 1 }, /at most 5368709120 bytes/],
    ])('refuses a form upload %s, reserving nothing', async (_case, extra, message) => {
      const { service } = serviceWith();
      const refused = await domainError(service.initiate(scope, body({ form: true, ...extra })));
      expect(refused).toMatchObject({ code: 'validation_failed', extra: { errors: [{ field: 'form', message: expect.stringMatching(message) }] } });
    });

    it('refuses an upload that would exceed the quota, signing nothing', async () => {
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant()), lifecycle: creatingUploads(false) });
      await expect(domainError(service.initiate(scope, body()))).resolves.toEqual({ code: 'quota_exceeded', extra: {} });
    });
  });

  describe('multipart', () => {
    const multipartStorage = () => strictMock<ObjectStorage>('storage', { createMultipartUpload: async () => 's3-up-1' });
    const recordingUploadId = () => strictMock<FileRepository>('files', { setUploadId: async () => undefined });

    it('creates the upload in parts, starts it in storage, records its upload id and answers the first batch of part URLs', async () => {
      const { service, lifecycle, storage, files, presigner } = serviceWith({
        tenants: tenantsHolding(aTenant()),
        lifecycle: creatingUploads(),
        storage: multipartStorage(),
        files: recordingUploadId(),
        presigner: presigning(),
      });

      const result = await service.initiate(scope, body({ filename: 'clip.mp4', contentType: 'video/mp4', size: 40 * MiB }));

      const [upload] = lifecycle.createUpload.mock.calls[0];
      expect(upload).toMatchObject({
        mode: 'multipart',
        size: 40n * 1024n ** 2n,
        partSize: 8n * 1024n ** 2n,
        partCount: 5,
        checksumAlgorithm: null,
        declaredSha256: null,
      });
      const key = `uploads/${TEST_TENANT_ID}/${upload.id}`;
      expect(storage.createMultipartUpload).toHaveBeenCalledWith(key, { contentType: 'video/mp4', checksumSha256: false });
      expect(files.setUploadId).toHaveBeenCalledWith(upload.id, 's3-up-1');
      expect(presigner.uploadParts).toHaveBeenCalledTimes(1);
      expect(presigner.uploadParts).toHaveBeenCalledWith(
        key,
        's3-up-1',
        [1, 2, 3, 4].map((partNumber) => ({ partNumber, checksumSha256: undefined })),
      );
      expect(result).toEqual({
        id: upload.id,
        status: 'pending',
        mode: 'multipart',
        size: 40 * MiB,
        partSize: 8 * MiB,
        partCount: 5,
        maxPartNumber: 8,
        expiresAt: '2026-11-30T13:00:00.000Z',
        parts: [1, 2, 3, 4].map((n) => partUrl(key, n)),
      });
    });

    it('signs every part when there are fewer than the first batch holds', async () => {
      const { service, presigner } = serviceWith({
        tenants: tenantsHolding(aTenant()),
        lifecycle: creatingUploads(),
        storage: multipartStorage(),
        files: recordingUploadId(),
        presigner: presigning(),
      });
      const result = await service.initiate(scope, body({ size: 17 * MiB }));
      expect(presigner.uploadParts.mock.calls[0][2].map((p) => p.partNumber)).toEqual([1, 2, 3]);
      expect(result).toMatchObject({ partCount: 3, parts: [{ partNumber: 1 }, { partNumber: 2 }, { partNumber: 3 }] });
    });

    it('plans with the part size the client declared, even below the multipart threshold, and signs as many URLs as it asked for', async () => {
      const { service, lifecycle, presigner } = serviceWith({
        tenants: tenantsHolding(aTenant()),
        lifecycle: creatingUploads(),
        storage: multipartStorage(),
        files: recordingUploadId(),
        presigner: presigning(),
      });
      const result = await service.initiate(scope, body({ size: 12 * MiB, partSize: 5 * MiB, initialPartUrls: 2 }));
      expect(lifecycle.createUpload.mock.calls[0][0]).toMatchObject({ mode: 'multipart', partSize: 5n * 1024n ** 2n, partCount: 3 });
      expect(presigner.uploadParts.mock.calls[0][2].map((p) => p.partNumber)).toEqual([1, 2]);
      expect(result).toMatchObject({ mode: 'multipart', partSize: 5 * MiB, partCount: 3, maxPartNumber: 3, parts: [{ partNumber: 1 }, { partNumber: 2 }] });
    });

    it('signs no URL up front for a client that signs part by part (initialPartUrls: 0)', async () => {
      const { service, presigner } = serviceWith({
        tenants: tenantsHolding(aTenant()),
        lifecycle: creatingUploads(),
        storage: multipartStorage(),
        files: recordingUploadId(),
        presigner: presigning(),
      });
      const result = await service.initiate(scope, body({ size: 60 * MiB, initialPartUrls: 0 }));
      expect(result).toMatchObject({ mode: 'multipart', partSize: 8 * MiB, partCount: 8, maxPartNumber: 12, parts: [] });
      expect(presigner.uploadParts).not.toHaveBeenCalled();
    });

    it.each([
      ['makes more than 10,000 parts', 10_001 * 5 * MiB, 5 * MiB, 'makes 10001 parts of this file; at most 10000 are allowed'],
      ['is declared for an empty file', 0, 5 * MiB, 'an empty file is sent with one PUT: declare no part size'],
    ])('refuses a part size that %s, before anything is reserved', async (_, size, partSize, message) => {
      const { service } = serviceWith();
      await expect(domainError(service.initiate(scope, body({ size, partSize })))).resolves.toEqual({
        code: 'validation_failed',
        extra: { errors: [{ field: 'partSize', message }] },
      });
    });

    it('with declared part checksums, starts a checksummed upload and signs no part before the client sends their checksums', async () => {
      const { service, lifecycle, storage } = serviceWith({
        tenants: tenantsHolding(aTenant()),
        lifecycle: creatingUploads(),
        storage: multipartStorage(),
        files: recordingUploadId(),
      });
      const result = await service.initiate(scope, body({ contentType: 'video/mp4', size: 40 * MiB, checksum: 'sha256' }));
      const [upload] = lifecycle.createUpload.mock.calls[0];
      expect(upload.checksumAlgorithm).toBe('SHA256');
      expect(storage.createMultipartUpload).toHaveBeenCalledWith(upload.storageKey, { contentType: 'video/mp4', checksumSha256: true });
      expect(result).toMatchObject({ mode: 'multipart', partCount: 5, parts: [] });
    });

    it('aborts the upload (handing its reservation back) when storage refuses to start it, and rethrows', async () => {
      const refusal = new DomainError('storage_unavailable', 'S3 is down');
      const storage = strictMock<ObjectStorage>('storage', {
        createMultipartUpload: async () => {
          throw refusal;
        },
      });
      const lifecycle = strictMock<FileLifecycle>('lifecycle', {
        createUpload: async (u) => aFile({ ...u, metadata: null }),
        abort: async (file) => ({ ...file, status: 'aborted' }),
      });
      const { service } = serviceWith({ tenants: tenantsHolding(aTenant()), lifecycle, storage });

      await expect(service.initiate(scope, body({ size: 40 * MiB }))).rejects.toBe(refusal);

      const created = await lifecycle.createUpload.mock.results[0].value;
      expect(lifecycle.abort).toHaveBeenCalledTimes(1);
      expect(lifecycle.abort).toHaveBeenCalledWith(created, 'storage_unavailable');
    });
  });
});

describe('UploadsService.signParts', () => {
  const CHECKSUM = 'A'.repeat(43) + '=';

  it('refuses part numbers beyond the most parts of 5 MiB the size allows, naming each, and moves nothing', async () => {
    const file = aMultipartUpload({ status: 'uploading', partCount: 3 });
    const { service } = serviceWith({ files: filesOwning(file) });
    await expect(domainError(service.signParts(scope, file.id, { partNumbers: [2, 3, 4, 5] }))).resolves.toEqual({
      code: 'validation_failed',
      extra: {
        errors: [
          { field: 'partNumbers', message: 'part 4 is beyond part 3, the highest allowed' },
          { field: 'partNumbers', message: 'part 5 is beyond part 3, the highest allowed' },
        ],
      },
    });
  });

  it("signs part numbers beyond the plan's, up to the size at 5 MiB parts: the client may choose its own part size (#14)", async () => {
    // 60 MiB planned as 8 parts of 8 MiB; Uppy sends 12 parts of 5 MiB.
    const file = aMultipartUpload({ status: 'uploading', size: 60n * 1024n ** 2n, partSize: 8n * 1024n ** 2n, partCount: 8 });
    const lifecycle = strictMock<FileLifecycle>('lifecycle', { startUploading: async () => null });
    const { service, presigner } = serviceWith({ files: filesOwning(file), lifecycle, presigner: presigning() });
    const signed = await service.signParts(scope, file.id, { partNumbers: [9, 10, 11, 12] });
    expect(signed.parts.map((p) => p.partNumber)).toEqual([9, 10, 11, 12]);
    expect(presigner.uploadParts).toHaveBeenCalledTimes(1);
    await expect(domainError(service.signParts(scope, file.id, { partNumbers: [13] }))).resolves.toMatchObject({ code: 'validation_failed' });
  });

  it('refuses parts without their checksum when the upload declared part checksums', async () => {
    const file = aMultipartUpload({ status: 'uploading', partCount: 3, checksumAlgorithm: 'SHA256' });
    const { service } = serviceWith({ files: filesOwning(file) });
    await expect(domainError(service.signParts(scope, file.id, { partNumbers: [1, 2, 3], checksums: { '2': CHECKSUM } }))).resolves.toEqual({
      code: 'validation_failed',
      extra: {
        errors: [
          { field: 'checksums.1', message: 'is required' },
          { field: 'checksums.3', message: 'is required' },
        ],
      },
    });
  });

  it('moves a pending upload to uploading and signs the parts asked for', async () => {
    const file = aMultipartUpload({ status: 'pending', partCount: 3, s3UploadId: 's3-up-1' });
    const lifecycle = strictMock<FileLifecycle>('lifecycle', { startUploading: async () => ({ ...file, status: 'uploading' }) });
    const { service, files, presigner } = serviceWith({ files: filesOwning(file), lifecycle, presigner: presigning() });

    await expect(service.signParts(scope, file.id, { partNumbers: [1, 3] })).resolves.toEqual({
      parts: [partUrl(file.storageKey, 1), partUrl(file.storageKey, 3)],
    });

    expect(files.findOwned).toHaveBeenCalledWith(scope, file.id);
    expect(lifecycle.startUploading).toHaveBeenCalledTimes(1);
    expect(lifecycle.startUploading).toHaveBeenCalledWith(file);
    expect(presigner.uploadParts).toHaveBeenCalledWith(file.storageKey, 's3-up-1', [
      { partNumber: 1, checksumSha256: undefined },
      { partNumber: 3, checksumSha256: undefined },
    ]);
  });

  it('signs each part with its declared checksum', async () => {
    const file = aMultipartUpload({ status: 'uploading', partCount: 3, checksumAlgorithm: 'SHA256' });
    const lifecycle = strictMock<FileLifecycle>('lifecycle', { startUploading: async () => null });
    const { service, presigner } = serviceWith({ files: filesOwning(file), lifecycle, presigner: presigning() });
    await service.signParts(scope, file.id, { partNumbers: [2], checksums: { '2': CHECKSUM } });
    expect(presigner.uploadParts).toHaveBeenCalledWith(file.storageKey, file.s3UploadId, [{ partNumber: 2, checksumSha256: CHECKSUM }]);
  });
});

describe('UploadsService.complete', () => {
  const enqueuing = () => strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  const completing = (moved: boolean) =>
    strictMock<FileLifecycle>('lifecycle', { markCompleting: async (id) => (moved ? aFile({ id, status: 'completing' }) : null) });
  const storedParts = (...sizes: number[]): StoredPart[] => sizes.map((size, i) => ({ partNumber: i + 1, size, etag: `e${i + 1}`, checksumSha256: null }));

  it('answers 200 with the view of an upload storage already confirmed, changing nothing', async () => {
    const file = aFile({ status: 'ready', size: 1024n });
    const { service } = serviceWith({ files: filesOwning(file) });
    await expect(service.complete(scope, file.id, {})).resolves.toEqual({
      status: 200,
      body: {
        id: file.id,
        status: 'ready',
        mode: 'single',
        filename: 'photo.jpg',
        size: 1024,
        contentType: 'image/jpeg',
        checksum: null,
        uploadedParts: [],
        partsFrom: 'ledger',
        bytesUploaded: 1024,
        expiresAt: file.expiresAt.toISOString(),
        createdAt: file.createdAt.toISOString(),
      },
    });
  });

  it.each<FileStatusName>(['aborted', 'expired', 'rejected', 'failed', 'deleted'])('refuses to complete an upload that ended %s', async (status) => {
    const file = aFile({ status });
    const { service } = serviceWith({ files: filesOwning(file) });
    await expect(domainError(service.complete(scope, file.id, {}))).resolves.toEqual({ code: 'invalid_state', extra: { uploadStatus: status } });
  });

  it('refuses to complete a single PUT whose object storage does not hold yet', async () => {
    const file = aFile({ status: 'pending' });
    const storage = strictMock<ObjectStorage>('storage', { head: async () => null });
    const { service } = serviceWith({ files: filesOwning(file), storage });
    await expect(domainError(service.complete(scope, file.id, {}))).resolves.toEqual({ code: 'parts_missing', extra: { missingParts: [1] } });
    expect(storage.head).toHaveBeenCalledWith(file.storageKey);
  });

  it('marks a stored single PUT completing and hands it to the completion job, answering 202', async () => {
    const file = aFile({ status: 'pending' });
    const storage = strictMock<ObjectStorage>('storage', { head: async () => ({ size: 1024, etag: 'e', contentType: 'image/jpeg', lastModified: null }) });
    const { service, lifecycle, jobs } = serviceWith({ files: filesOwning(file), storage, lifecycle: completing(true), jobs: enqueuing() });

    await expect(service.complete(scope, file.id, {})).resolves.toEqual({ status: 202, body: { id: file.id, status: 'completing' } });

    expect(lifecycle.markCompleting).toHaveBeenCalledWith(file.id);
    expect(jobs.enqueue).toHaveBeenCalledTimes(1);
    expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: file.id, parts: undefined }, { jobId: `complete-${file.id}` });
    expect(lifecycle.markCompleting.mock.invocationCallOrder[0]).toBeLessThan(jobs.enqueue.mock.invocationCallOrder[0]);
  });

  it("checks a multipart upload's parts against storage and the client's ETags before handing it on", async () => {
    const file = aMultipartUpload({ status: 'uploading', partSize: 5n * 1024n ** 2n, partCount: 3, s3UploadId: 's3-up-1' });
    const storage = strictMock<ObjectStorage>('storage', { listParts: async () => storedParts(5 * MiB, 5 * MiB, 5 * MiB) });
    const ledger = strictMock<FilePartRepository>('parts', { recordStored: async () => undefined });
    const { service, lifecycle, jobs } = serviceWith({ files: filesOwning(file), storage, lifecycle: completing(true), jobs: enqueuing(), parts: ledger });
    const parts = [
      { partNumber: 1, etag: '"e1"' },
      { partNumber: 2, etag: 'e2' },
      { partNumber: 3, etag: 'e3' },
    ];

    await expect(service.complete(scope, file.id, { parts })).resolves.toEqual({ status: 202, body: { id: file.id, status: 'completing' } });

    expect(storage.listParts).toHaveBeenCalledWith(file.storageKey, 's3-up-1');
    // What was checked is what status views answer from from now on, without asking storage again.
    expect(ledger.recordStored).toHaveBeenCalledWith(file.id, storedParts(5 * MiB, 5 * MiB, 5 * MiB));
    expect(ledger.recordStored.mock.invocationCallOrder[0]).toBeLessThan(lifecycle.markCompleting.mock.invocationCallOrder[0]);
    expect(lifecycle.markCompleting).toHaveBeenCalledWith(file.id);
    expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: file.id, parts }, { jobId: `complete-${file.id}` });
  });

  it('refuses a multipart upload with a part storage does not hold, moving nothing', async () => {
    const file = aMultipartUpload({ status: 'uploading', partSize: 5n * 1024n ** 2n, partCount: 3 });
    const storage = strictMock<ObjectStorage>('storage', { listParts: async () => storedParts(5 * MiB, 5 * MiB) });
    const { service } = serviceWith({ files: filesOwning(file), storage });
    await expect(domainError(service.complete(scope, file.id, {}))).resolves.toEqual({
      code: 'parts_missing',
      extra: { missingParts: [3], missingCount: 1, missingBytes: 5 * MiB },
    });
  });

  it("completes parts in the client's own size, not the plan's: contiguous, 5 MiB but the last, adding up to the size", async () => {
    // Planned as 2 parts of 8 MiB; the client sent 5 + 5 + 5 + 1 MiB.
    const file = aMultipartUpload({ status: 'uploading', size: 16n * 1024n ** 2n, partSize: 8n * 1024n ** 2n, partCount: 2, s3UploadId: 's3-up-1' });
    const stored = storedParts(5 * MiB, 5 * MiB, 5 * MiB, MiB);
    const storage = strictMock<ObjectStorage>('storage', { listParts: async () => stored });
    const ledger = strictMock<FilePartRepository>('parts', { recordStored: async () => undefined });
    const { service, jobs } = serviceWith({ files: filesOwning(file), storage, lifecycle: completing(true), jobs: enqueuing(), parts: ledger });

    await expect(service.complete(scope, file.id, {})).resolves.toEqual({ status: 202, body: { id: file.id, status: 'completing' } });
    expect(ledger.recordStored).toHaveBeenCalledWith(file.id, stored);
    expect(jobs.enqueue).toHaveBeenCalledWith('upload.complete', { v: 1, fileId: file.id, parts: undefined }, { jobId: `complete-${file.id}` });
  });

  it('refuses, moving nothing, a layout with a middle part under 5 MiB', async () => {
    const file = aMultipartUpload({ status: 'uploading', size: 16n * 1024n ** 2n, partSize: 8n * 1024n ** 2n, partCount: 2 });
    const storage = strictMock<ObjectStorage>('storage', { listParts: async () => storedParts(5 * MiB, 4 * MiB, 7 * MiB) });
    const { service } = serviceWith({ files: filesOwning(file), storage });
    await expect(domainError(service.complete(scope, file.id, {}))).resolves.toEqual({
      code: 'part_mismatch',
      extra: { mismatchedParts: [{ partNumber: 2, reason: `size ${4 * MiB}: every part but the last must hold at least ${5 * MiB} bytes` }] },
    });
  });

  it('refuses a multipart upload whose part disagrees with the ETag the client sent', async () => {
    const file = aMultipartUpload({ status: 'uploading', partSize: 5n * 1024n ** 2n, partCount: 3 });
    const storage = strictMock<ObjectStorage>('storage', { listParts: async () => storedParts(5 * MiB, 5 * MiB, 5 * MiB) });
    const { service } = serviceWith({ files: filesOwning(file), storage });
    const error = await domainError(service.complete(scope, file.id, { parts: [{ partNumber: 2, etag: 'other' }] }));
    expect(error).toEqual({ code: 'part_mismatch', extra: { mismatchedParts: [{ partNumber: 2, reason: 'ETag differs from storage' }] } });
  });

  it('answers from the new state when another transition got there first', async () => {
    const pending = aFile({ status: 'pending' });
    const uploaded = { ...pending, status: 'uploaded' as const };
    const storage = strictMock<ObjectStorage>('storage', { head: async () => ({ size: 1024, etag: 'e', contentType: null, lastModified: null }) });
    const { service, files } = serviceWith({ files: filesOwning(pending, uploaded), storage, lifecycle: completing(false) });
    await expect(service.complete(scope, pending.id, {})).resolves.toMatchObject({ status: 200, body: { id: pending.id, status: 'uploaded' } });
    expect(files.findOwned).toHaveBeenCalledTimes(2);
  });
});

describe('UploadsService.get', () => {
  const upload = aMultipartUpload({ status: 'uploading', partSize: 5n * 1024n ** 2n, partCount: 3, s3UploadId: 's3-up-1' });
  const listed: StoredPart[] = [{ partNumber: 1, size: 5 * MiB, etag: 'e1', checksumSha256: null }];
  const recorded = [{ partNumber: 2, size: 5n * 1024n ** 2n, etag: 'e2' }];
  const listing = () => strictMock<ObjectStorage>('storage', { listParts: async () => listed });
  const ledgerOf = (file: FileRecord) => strictMock<FileRepository>('files', { findOwned: async () => file, storedParts: async () => recorded });

  it('lists what storage holds of an upload still taking parts: what its client resumes from', async () => {
    const storage = listing();
    const { service } = serviceWith({ files: ledgerOf(upload), storage });
    await expect(service.get(scope, upload.id)).resolves.toMatchObject({
      uploadedParts: [{ partNumber: 1, size: 5 * MiB, etag: 'e1' }],
      partsFrom: 'storage',
      bytesUploaded: 5 * MiB,
    });
    expect(storage.listParts).toHaveBeenCalledWith(upload.storageKey, 's3-up-1');
  });

  it('answers from the part ledger, asking storage nothing, when the caller asks for the ledger', async () => {
    // Storage is a strict mock with nothing given: any call to it fails the test.
    const { service } = serviceWith({ files: ledgerOf(upload) });
    await expect(service.get(scope, upload.id, { parts: 'ledger' })).resolves.toMatchObject({
      uploadedParts: [{ partNumber: 2, size: 5 * MiB, etag: 'e2' }],
      partsFrom: 'ledger',
    });
  });

  it.each<FileStatusName>(['completing', 'uploaded', 'ready'])('answers a %s upload from the ledger (its parts were checked and recorded)', async (status) => {
    const { service } = serviceWith({ files: ledgerOf({ ...upload, status }) }); // storage untouchable
    await expect(service.get(scope, upload.id)).resolves.toMatchObject({ partsFrom: 'ledger', uploadedParts: [{ partNumber: 2 }] });
  });
});

describe('UploadsService.abort', () => {
  it('answers not_found for an upload the caller does not own', async () => {
    const { service } = serviceWith({ files: filesOwning(null) });
    await expect(domainError(service.abort(scope, 'nope'))).resolves.toEqual({ code: 'not_found', extra: {} });
  });

  it.each<FileStatusName>(['aborted', 'expired'])('does nothing for an upload already %s (idempotent)', async (status) => {
    const file = aFile({ status });
    const { service } = serviceWith({ files: filesOwning(file) });
    await expect(service.abort(scope, file.id)).resolves.toBeUndefined();
  });

  it('aborts an unfinished upload through the lifecycle', async () => {
    const file = aMultipartUpload({ status: 'uploading' });
    const lifecycle = strictMock<FileLifecycle>('lifecycle', { abort: async (f) => ({ ...f, status: 'aborted' }) });
    const { service } = serviceWith({ files: filesOwning(file), lifecycle });
    await expect(service.abort(scope, file.id)).resolves.toBeUndefined();
    expect(lifecycle.abort).toHaveBeenCalledTimes(1);
    expect(lifecycle.abort).toHaveBeenCalledWith(file, 'aborted_by_client');
  });

  it('refuses to abort a file that is no longer an upload, pointing at deletion', async () => {
    const file = aFile({ status: 'ready' });
    const lifecycle = strictMock<FileLifecycle>('lifecycle', { abort: async () => null });
    const { service } = serviceWith({ files: filesOwning(file), lifecycle });
    await expect(domainError(service.abort(scope, file.id))).resolves.toEqual({ code: 'invalid_state', extra: { uploadStatus: 'ready' } });
    expect(lifecycle.abort).toHaveBeenCalledWith(file, 'aborted_by_client');
  });
});

describe('uploadDeadline', () => {
  const now = Date.parse('2026-11-29T10:00:00.000Z');
  it('gives a large upload the time its bytes take at the configured rate on top of the fixed deadline', () => {
    const config = { UPLOAD_EXPIRY_SECONDS: 86_400, UPLOAD_EXPIRY_BYTES_PER_SECOND: MiB };
    expect(uploadDeadline(10 * 1024 * MiB, config, now).getTime() - now).toBe((86_400 + 10_240) * 1000);
    expect(uploadDeadline(5 * 1024 ** 4, config, now).getTime() - now).toBe((86_400 + 5 * 1024 ** 2) * 1000);
    expect(uploadDeadline(1, config, now).getTime() - now).toBe((86_400 + 1) * 1000);
  });

  it('keeps the fixed deadline when the rate is 0', () => {
    expect(uploadDeadline(5 * 1024 ** 4, { UPLOAD_EXPIRY_SECONDS: 60, UPLOAD_EXPIRY_BYTES_PER_SECOND: 0 }, now).getTime() - now).toBe(60_000);
  });
});
