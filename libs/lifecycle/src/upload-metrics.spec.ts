import { Logger } from '@nestjs/common';
import type { FileRecord, FileRepository, FileTransitionRepository, StorageEventRecord } from '@app/database';
import { MetricsService } from '@app/observability';
import type { ObjectStorage } from '@app/storage';
import { aFile, aMultipartUpload, strictMock } from '@app/testing';
import { FileLifecycle } from './file-lifecycle';
import { reasonLabel, UploadMetrics } from './upload-metrics';

/** The lifecycle counting into a registry of its own, over transitions that answer `moved`. */
function counted(transitions: Partial<Record<keyof FileTransitionRepository, (...args: never[]) => Promise<unknown>>>) {
  const metrics = new MetricsService('test');
  const storage = strictMock<ObjectStorage>('storage', { abortMultipartUpload: async () => undefined, delete: async () => undefined });
  const lifecycle = new FileLifecycle(
    strictMock<FileRepository>('files'),
    strictMock<FileTransitionRepository>('transitions', transitions as never),
    storage,
    new UploadMetrics(metrics),
  );
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return sample?.value ?? 0;
  };
  return { lifecycle, value };
}

const event = { bucket: 'b', key: 'k', eventName: 'ObjectCreated:Put', sequencer: '01' } as unknown as StorageEventRecord;

beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

describe('reasonLabel', () => {
  it.each([
    ['size_mismatch: storage holds 5 bytes, 6 were declared', 'size_mismatch'],
    ['malware: Eicar-Test-Signature', 'malware'],
    ['storage refused completion: InvalidPart', 'storage_refused_completion'],
    ['deadline_passed', 'deadline_passed'],
    ['Über-long: x', 'other'],
    ['x'.repeat(60), 'other'],
  ])('%s -> %s', (reason, label) => expect(reasonLabel(reason)).toBe(label));
});

describe('upload metrics, counted where the lifecycle commits', () => {
  it('counts an initiation by mode, and a refusal by the quota as rejected', async () => {
    const file = aFile();
    let answer: FileRecord | null = file;
    const { lifecycle, value } = counted({ createUpload: async () => answer });
    await lifecycle.createUpload({ ...aMultipartUpload(), mode: 'multipart' } as never);
    answer = null;
    await lifecycle.createUpload({ ...aMultipartUpload(), mode: 'multipart' } as never);
    expect(await value('uploads_initiated_total', { mode: 'multipart' })).toBe(1);
    expect(await value('uploads_rejected_total', { reason: 'quota_exceeded' })).toBe(1);
  });

  it('counts completions and their bytes from storage events, once: a redelivery or a moved file counts nothing', async () => {
    const stored = aFile({ status: 'uploaded', size: 1_000n });
    const { lifecycle, value } = counted({
      applyForEvents: async () => [
        { duplicate: false, file: stored },
        { duplicate: true, file: null },
        { duplicate: false, file: null },
      ],
    });
    const finding = { step: 'confirmUploaded' as const, file: aFile({ status: 'pending', size: 1_000n }), etag: 'e' };
    await lifecycle.applyStorageEvents([
      { event, finding },
      { event, finding },
      { event, finding },
    ]);
    expect(await value('uploads_completed_total')).toBe(1);
    expect(await value('uploads_completed_bytes_total')).toBe(1_000);
  });

  it('counts a rejection by its reason code, an expiry and an abort, only when the step happened', async () => {
    let moved: FileRecord | null = aFile({ status: 'rejected' });
    const { lifecycle, value } = counted({ apply: async () => moved });
    const file = aFile({ status: 'uploading', mode: 'single' });
    await lifecycle.rejectUpload(file, 'size_mismatch: storage holds 5 bytes, 6 were declared');
    await lifecycle.expire(file);
    await lifecycle.abort(file, 'aborted_by_client');
    moved = null; // found elsewhere: a repeat
    await lifecycle.rejectUpload(file, 'size_mismatch: again');
    await lifecycle.expire(file);
    expect(await value('uploads_rejected_total', { reason: 'size_mismatch' })).toBe(1);
    expect(await value('uploads_expired_total')).toBe(1);
    expect(await value('uploads_aborted_total', { reason: 'aborted_by_client' })).toBe(1);
  });

  it('counts nothing without the observability module', () => {
    expect(() => new UploadMetrics().completedOne(5n)).not.toThrow();
  });
});
