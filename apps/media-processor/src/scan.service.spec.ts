import { Logger } from '@nestjs/common';
import type { FileRecord, FileRepository, TenantRepository } from '@app/database';
import type { FileLifecycle } from '@app/lifecycle';
import { ClamdClient, ScannerUnavailableError } from '@app/media';
import type { ScanVerdict } from '@app/media';
import { MetricsService } from '@app/observability';
import type { JobQueue } from '@app/queue';
import type { ObjectStorage } from '@app/storage';
import { aFile, aTenant, callsInOrder, strictMock } from '@app/testing';
import type { MediaProcessorConfig } from './config';
import { MediaRouter } from './media-router';
import { ScanService } from './scan.service';

Logger.overrideLogger(['error']);

const SHA = 'c'.repeat(64);
const CONFIG = {
  CLAMD_HOST: '127.0.0.1',
  CLAMD_PORT: 3310,
  CLAMD_TIMEOUT_MS: 1_000,
  CLAMD_STREAM_MAX_BYTES: 10_000,
  SCAN_INFECTED_ACTION: 'delete',
  S3_QUARANTINE_PREFIX: 'quarantine/',
};

/** A scan of `file` (verified: its hash and type recorded) where clamd answers `verdict` (or fails with it). */
function setup(
  opts: { file?: Partial<FileRecord>; verdict?: ScanVerdict | Error; config?: Partial<MediaProcessorConfig>; scanTooLarge?: 'reject' | 'skip' } = {},
) {
  const file = aFile({ status: 'processing', size: 4096n, contentType: 'application/pdf', detectedType: 'application/pdf', sha256: SHA, ...opts.file });
  const reads = (async function* () {
    yield { bytes: Buffer.from('stored bytes'), release: () => undefined };
  })();
  const scan = jest.spyOn(ClamdClient.prototype, 'scan').mockReset();
  if (opts.verdict instanceof Error) scan.mockRejectedValue(opts.verdict);
  else scan.mockResolvedValue(opts.verdict ?? { infected: false });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reread: async (fileId) => (fileId === file.id ? { file } : { skipped: 'skipped:missing' }),
    rejectContent: async (f) => ({ ...f, status: 'rejected' }),
    markReady: async () => ({ ...file, status: 'ready' }),
  });
  const files = strictMock<FileRepository>('files', { setScan: async () => undefined, setVerified: async () => undefined });
  const tenants = strictMock<TenantRepository>('tenants', { find: async () => aTenant({ id: file.tenantId, scanTooLarge: opts.scanTooLarge ?? 'reject' }) });
  const storage = strictMock<ObjectStorage>('storage', { readLent: () => reads, copy: async () => undefined });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  const config = { ...CONFIG, ...opts.config } as MediaProcessorConfig;
  const service = new ScanService(config, files, tenants, storage, lifecycle, new MediaRouter(files, jobs, lifecycle), new MetricsService('test'));
  const calls = () => callsInOrder({ lifecycle, files, storage, jobs, clamd: { scan } }).filter(([call]) => call !== 'lifecycle.reread');
  return { file, service, calls, reads };
}

describe('ScanService', () => {
  afterAll(() => jest.restoreAllMocks());

  it('streams the stored bytes to clamd; clean: records it and routes the file on (ready)', async () => {
    const { file, service, calls, reads } = setup();
    await expect(service.scan({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(calls()).toEqual([
      ['storage.readLent', file.storageKey],
      ['clamd.scan', reads],
      ['files.setScan', file.id, 'clean'],
      ['lifecycle.markReady', file.id, { sha256: SHA, detectedType: 'application/pdf' }, { detectedType: 'application/pdf', sha256: SHA, size: 4096 }],
    ]);
  });

  it('routes a clean image to the image queue', async () => {
    const { file, service } = setup({ file: { contentType: 'image/png', detectedType: 'image/png' } });
    await expect(service.scan({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'routed:media.image' });
  });

  it('malware: rejects the file with the signature in its reason (the lifecycle deletes the object and frees the quota)', async () => {
    const { file, service, calls, reads } = setup({ verdict: { infected: true, signature: 'Eicar-Test-Signature' } });
    await expect(service.scan({ v: 1, fileId: file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(calls()).toEqual([
      ['storage.readLent', file.storageKey],
      ['clamd.scan', reads],
      ['lifecycle.rejectContent', file, 'malware: Eicar-Test-Signature'],
    ]);
  });

  it('malware with SCAN_INFECTED_ACTION=quarantine: copied under the quarantine prefix first', async () => {
    const { file, service, calls } = setup({ verdict: { infected: true, signature: 'X' }, config: { SCAN_INFECTED_ACTION: 'quarantine' } });
    await service.scan({ v: 1, fileId: file.id });
    expect(calls().slice(2)).toEqual([
      ['storage.copy', file.storageKey, `quarantine/${file.tenantId}/${file.id}`],
      ['lifecycle.rejectContent', file, 'malware: X'],
    ]);
  });

  it('clamd unavailable: the job fails (to be retried) and the file is left as it is', async () => {
    const { file, service, calls } = setup({ verdict: new ScannerUnavailableError('connect ECONNREFUSED') });
    await expect(service.scan({ v: 1, fileId: file.id })).rejects.toBeInstanceOf(ScannerUnavailableError);
    expect(calls().map(([call]) => call)).toEqual(['storage.readLent', 'clamd.scan']);
  });

  it("over the scanner's limit: never sent; rejected where the tenant says reject, else ready and marked skipped_too_large", async () => {
    const strict = setup({ file: { size: 20_000n } });
    await expect(strict.service.scan({ v: 1, fileId: strict.file.id })).resolves.toEqual({ outcome: 'rejected' });
    expect(strict.calls()).toEqual([['lifecycle.rejectContent', strict.file, 'scan_too_large: 20000 bytes, more than the scanner takes (10000)']]);

    const lenient = setup({ file: { size: 20_000n }, scanTooLarge: 'skip' });
    await expect(lenient.service.scan({ v: 1, fileId: lenient.file.id })).resolves.toEqual({ outcome: 'ready' });
    expect(lenient.calls().map(([call]) => call)).toEqual(['files.setScan', 'lifecycle.markReady']);
  });

  it('skips a file that is no longer processing', async () => {
    const { service } = setup();
    await expect(service.scan({ v: 1, fileId: 'another' })).resolves.toEqual({ outcome: 'skipped:missing' });
  });
});
