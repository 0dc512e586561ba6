import { Logger } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import type { FilePartRepository, FileRecord } from '@app/database';
import { ACCEPTING_PARTS, type FileLifecycle, type Reread } from '@app/lifecycle';
import type { ObjectHead, ObjectStorage, StoredPart } from '@app/storage';
import { aFile, aMultipartUpload, strictMock, callsInOrder } from '@app/testing';
import { CompletionService } from './completion.service';

const MiB = 1024 ** 2;
/** An upload of three 5 MiB parts, being completed. */
const completing = (overrides: Parameters<typeof aMultipartUpload>[0] = {}) =>
  aMultipartUpload({ status: 'completing', s3UploadId: 's3-upload-1', ...overrides });
/** What storage's ListParts answers for `file` when every planned part is there as planned. */
const partsOf = (file: FileRecord): StoredPart[] =>
  Array.from({ length: file.partCount! }, (_, i) => ({ partNumber: i + 1, size: Number(file.partSize), etag: `etag-${i + 1}`, checksumSha256: null }));
const headOf = (size: number): ObjectHead => ({ size, etag: 'etag-multipart-3', contentType: null, lastModified: null });

/** A completer whose adapters are strict mocks: the re-read finds `file` (or reports `skipped`). */
function setup(found: Reread, stored: StoredPart[] = found.file ? partsOf(found.file) : []) {
  const parts = strictMock<FilePartRepository>('parts', { recordStored: async () => undefined, recordReported: async () => undefined });
  const storage = strictMock<ObjectStorage>('storage', {
    listParts: async () => stored,
    head: async () => null,
    completeMultipartUpload: async () => ({ etag: 'etag-multipart-3' }),
  });
  // No confirmUploaded: storage's ObjectCreated event is what marks a file uploaded, never this job.
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reread: async () => found,
    rejectUpload: async (file) => ({ ...file, status: 'rejected' }),
  });
  const service = new CompletionService(parts, storage, lifecycle);
  const mocks = { parts, storage, lifecycle };
  /** Every adapter call, in order: a test states all the effects it allows. */
  const effects = () => callsInOrder(mocks).map(([call]) => call);
  return { service, ...mocks, effects };
}

describe('CompletionService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('complete', () => {
    it('records the parts storage holds in the ledger, then completes the multipart upload in storage, leaving the confirmation to its event', async () => {
      const file = completing();
      const stored = partsOf(file);
      const { service, lifecycle, parts, storage, effects } = setup({ file });

      const result = await service.complete({ v: 1, fileId: file.id });

      expect(result).toEqual({ outcome: 'completed' });
      expect(lifecycle.reread).toHaveBeenCalledWith(file.id, 'completing');
      expect(storage.listParts).toHaveBeenCalledWith(file.storageKey, 's3-upload-1');
      expect(parts.recordStored).toHaveBeenCalledWith(file.id, stored);
      expect(storage.completeMultipartUpload).toHaveBeenCalledWith(file.storageKey, 's3-upload-1', stored);
      expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'parts.recordStored', 'storage.completeMultipartUpload']);
    });

    it("completes the parts storage holds in the client's own size, not the plan's (#14)", async () => {
      // Planned as 8 MiB parts (2); the client (Uppy) sent 5 + 5 + 5 + 1 MiB.
      const file = completing({ size: 16n * 1024n ** 2n, partSize: 8n * 1024n ** 2n, partCount: 2 });
      const stored = [5 * MiB, 5 * MiB, 5 * MiB, MiB].map((size, i) => ({ partNumber: i + 1, size, etag: `etag-${i + 1}`, checksumSha256: null }));
      const { service, storage, effects } = setup({ file }, stored);

      expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'completed' });
      expect(storage.completeMultipartUpload).toHaveBeenCalledWith(file.storageKey, 's3-upload-1', stored);
      expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'parts.recordStored', 'storage.completeMultipartUpload']);
    });

    it('completes with the ETags the client sent when they match storage (quoted or not)', async () => {
      const file = completing();
      const { service, storage } = setup({ file });

      const given = [
        { partNumber: 1, etag: '"etag-1"' },
        { partNumber: 3, etag: 'etag-3' },
      ];
      expect(await service.complete({ v: 1, fileId: file.id, parts: given })).toEqual({ outcome: 'completed' });
      expect(storage.completeMultipartUpload).toHaveBeenCalledTimes(1);
    });

    it.each(['uploaded', 'rejected', 'expired', 'missing'])('does nothing when the re-read finds the upload %s (a repeated or late job)', async (status) => {
      const { service, lifecycle, effects } = setup({ skipped: `skipped:${status}` });

      expect(await service.complete({ v: 1, fileId: 'f-1' })).toEqual({ outcome: `skipped:${status}` });
      expect(lifecycle.reread).toHaveBeenCalledWith('f-1', 'completing');
      expect(effects()).toEqual(['lifecycle.reread']);
    });

    it.each([
      ['a single-PUT upload', aFile({ status: 'completing', mode: 'single' })],
      ['a multipart upload with no storage upload id', completing({ s3UploadId: null })],
    ])('leaves %s to the storage event that will confirm it', async (_, file) => {
      const { service, effects } = setup({ file });

      expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'awaiting-event' });
      expect(effects()).toEqual(['lifecycle.reread']);
    });

    describe('when storage no longer knows the multipart upload', () => {
      const noSuchUpload = new DomainError('not_found', 'ListParts: NoSuchUpload');

      it('reports it completed when HEAD finds the object (an earlier attempt completed it; its event is on the way)', async () => {
        const file = completing();
        const { service, storage, effects } = setup({ file });
        storage.listParts.mockRejectedValueOnce(noSuchUpload);
        storage.head.mockResolvedValueOnce(headOf(Number(file.size)));

        expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'already-completed' });
        expect(storage.head).toHaveBeenCalledWith(file.storageKey);
        expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'storage.head']);
      });

      it('reports it completed when completion meets an object of the declared size (If-None-Match: an earlier attempt wrote it)', async () => {
        const file = completing();
        const { service, storage, lifecycle } = setup({ file });
        storage.completeMultipartUpload.mockRejectedValueOnce(
          new DomainError('storage_error', 'CompleteMultipartUpload: the key already holds an object', { storageStatus: 412 }),
        );
        storage.head.mockResolvedValueOnce(headOf(Number(file.size)));

        expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'already-completed' });
        expect(lifecycle.rejectUpload).not.toHaveBeenCalled();
      });

      it("rejects the upload as 'multipart_upload_missing' when storage holds no object either", async () => {
        const file = completing();
        const { service, storage, lifecycle, effects } = setup({ file });
        storage.listParts.mockRejectedValueOnce(noSuchUpload);

        expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'rejected' });
        expect(lifecycle.rejectUpload).toHaveBeenCalledWith(file, 'multipart_upload_missing');
        expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'storage.head', 'lifecycle.rejectUpload']);
      });
    });

    it.each([
      ['storage is unavailable', new DomainError('storage_unavailable', 'ListParts: SlowDown')],
      ['storage errs otherwise', new DomainError('storage_error', 'ListParts: AccessDenied')],
      ['something unexpected fails', new Error('boom')],
    ])('rethrows for a retry when listing the parts fails because %s', async (_, error) => {
      const file = completing();
      const { service, storage, effects } = setup({ file });
      storage.listParts.mockRejectedValueOnce(error);

      await expect(service.complete({ v: 1, fileId: file.id })).rejects.toBe(error);
      expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts']);
    });

    describe('rejects an upload whose stored parts no longer make the file, without completing it', () => {
      it.each([
        [
          'a planned part is missing',
          (p: StoredPart[]) => p.slice(0, 2),
          undefined,
          'parts_missing: 1 part(s) are not in storage: the parts stored hold 10485760 of 15728640 bytes.',
        ],
        [
          'a middle part is under 5 MiB (and the sizes no longer add up)',
          (p: StoredPart[]) => p.map((x) => (x.partNumber === 2 ? { ...x, size: 5 * MiB - 1 } : x)),
          undefined,
          'part_mismatch: 2 part(s) disagree with storage.',
        ],
        [
          'a part lies beyond the most a file of this size has (and the sizes no longer add up)',
          (p: StoredPart[]) => [...p, { partNumber: 4, size: 5 * MiB, etag: 'etag-4', checksumSha256: null }],
          undefined,
          'part_mismatch: 2 part(s) disagree with storage.',
        ],
        [
          'a part was overwritten since the client sent its ETag',
          (p: StoredPart[]) => p,
          [{ partNumber: 2, etag: 'etag-old' }],
          'part_mismatch: 1 part(s) disagree with storage.',
        ],
      ])('when %s', async (_, change, given, reason) => {
        const file = completing();
        const { service, lifecycle, effects } = setup({ file }, change(partsOf(file)));

        expect(await service.complete({ v: 1, fileId: file.id, parts: given })).toEqual({ outcome: 'rejected' });
        expect(lifecycle.rejectUpload).toHaveBeenCalledWith(file, reason);
        expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'lifecycle.rejectUpload']);
      });
    });

    it('rejects the upload when storage refuses the completion (a final answer, not worth a retry)', async () => {
      const file = completing();
      const { service, storage, lifecycle, effects } = setup({ file });
      storage.completeMultipartUpload.mockRejectedValueOnce(new DomainError('storage_error', 'CompleteMultipartUpload: EntityTooSmall'));

      expect(await service.complete({ v: 1, fileId: file.id })).toEqual({ outcome: 'rejected' });
      expect(lifecycle.rejectUpload).toHaveBeenCalledWith(file, 'storage refused completion: CompleteMultipartUpload: EntityTooSmall');
      expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'parts.recordStored', 'storage.completeMultipartUpload', 'lifecycle.rejectUpload']);
    });

    it.each([
      ['storage is unavailable', new DomainError('storage_unavailable', 'CompleteMultipartUpload: SlowDown')],
      ['the upload vanished meanwhile (the retry finds out why)', new DomainError('not_found', 'CompleteMultipartUpload: NoSuchUpload')],
      ['something unexpected fails', new Error('socket hang up')],
    ])('rethrows for a retry, rejecting nothing, when completing fails because %s', async (_, error) => {
      const file = completing();
      const { service, storage, effects } = setup({ file });
      storage.completeMultipartUpload.mockRejectedValueOnce(error);

      await expect(service.complete({ v: 1, fileId: file.id })).rejects.toBe(error);
      expect(effects()).toEqual(['lifecycle.reread', 'storage.listParts', 'parts.recordStored', 'storage.completeMultipartUpload']);
    });
  });

  describe('partReported', () => {
    const report = { v: 1 as const, fileId: 'f-1', partNumber: 2, etag: 'etag-2', size: 5 * MiB };

    it.each(['pending', 'uploading'] as const)('records a client report of a part of a multipart upload still %s', async (status) => {
      const file = aMultipartUpload({ id: report.fileId, status });
      const { service, lifecycle, parts, effects } = setup({ file });

      await service.partReported(report);

      expect(lifecycle.reread).toHaveBeenCalledWith(report.fileId, ACCEPTING_PARTS);
      expect(parts.recordReported).toHaveBeenCalledWith(file.id, { partNumber: 2, size: 5 * MiB, etag: 'etag-2' });
      expect(effects()).toEqual(['lifecycle.reread', 'parts.recordReported']);
    });

    it('ignores a report for an upload no longer accepting parts', async () => {
      const { service, effects } = setup({ skipped: 'skipped:completing' });

      await service.partReported(report);

      expect(effects()).toEqual(['lifecycle.reread']);
    });

    it('ignores a report for a single-PUT upload (it has no parts)', async () => {
      const { service, effects } = setup({ file: aFile({ id: report.fileId, status: 'uploading', mode: 'single' }) });

      await service.partReported(report);

      expect(effects()).toEqual(['lifecycle.reread']);
    });
  });
});
