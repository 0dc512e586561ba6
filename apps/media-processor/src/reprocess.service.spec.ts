import { Logger } from '@nestjs/common';
import { mediaEnv } from '@app/config';
import type { FileRecord, FileRepository } from '@app/database';
import { PROCESSED, VERIFIABLE } from '@app/lifecycle';
import type { FileLifecycle } from '@app/lifecycle';
import { IMAGE_TYPES, VIDEO_TYPES } from '@app/media';
import type { JobQueue } from '@app/queue';
import { aFile, strictMock } from '@app/testing';
import { ReprocessService } from './reprocess.service';

Logger.overrideLogger(['error']);

const IMAGE_LIMIT = 1_000_000;
type MissingQuery = Parameters<FileRepository['findMissingVariants']>[0];

/**
 * `files` are what the repository holds missing variants (by rule, keyset-paged by id as the real
 * query is); `reprocessable` the ids the lifecycle's `reprocess` step moves (ready or failed);
 * `verifiable` those already on their way (uploaded or processing).
 */
function setup(opts: { transcode?: boolean; images?: FileRecord[]; videos?: FileRecord[]; reprocessable?: string[]; verifiable?: string[] } = {}) {
  const config = { ...mediaEnv.parse({}), IMAGE_MAX_INPUT_BYTES: IMAGE_LIMIT, VIDEO_TRANSCODE: opts.transcode ?? false };
  const files = strictMock<FileRepository>('files', {
    findMissingVariants: async (q: MissingQuery) => {
      const pool = q.types.includes('image/jpeg') ? (opts.images ?? []) : (opts.videos ?? []);
      return pool.filter((f) => !q.afterId || f.id > q.afterId).slice(0, q.limit);
    },
  });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', {
    reprocess: async (id) => (opts.reprocessable?.includes(id) ? aFile({ id, status: 'processing' }) : null),
    reread: async (id) => (opts.verifiable?.includes(id) ? { file: aFile({ id, status: 'processing' }) } : { skipped: 'skipped:rejected' }),
  });
  const jobs = strictMock<JobQueue>('jobs', { enqueue: async () => 'job-1' });
  // A mock has only the public members: the classes' private fields make the casts necessary.
  const service = new ReprocessService(config, files, lifecycle, jobs);
  const verified = () => jobs.enqueue.mock.calls.map(([, payload]) => (payload as { fileId: string }).fileId);
  return { service, files, lifecycle, jobs, verified };
}

/** `n` files whose ids sort in creation order, as the sweep's keyset paging expects. */
const filesNamed = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => aFile({ id: `${prefix}-${String(i).padStart(4, '0')}`, status: 'ready' }));

const imageRule = { types: [...IMAGE_TYPES], variants: ['thumb', 'preview'], maxSize: IMAGE_LIMIT, statuses: PROCESSED, limit: 500 };
const videoRule = { types: [...VIDEO_TYPES], variants: ['poster'], statuses: PROCESSED, limit: 500 };

describe('ReprocessService', () => {
  it('sends a ready or failed file back to processing and through verification again', async () => {
    const { service, lifecycle, jobs } = setup({ reprocessable: ['f1'] });
    await expect(service.reprocess({ v: 1, fileId: 'f1' })).resolves.toEqual({ reprocessed: 1 });
    expect(lifecycle.reprocess.mock.calls).toEqual([['f1']]);
    expect(lifecycle.reread).not.toHaveBeenCalled();
    // rerun: the earlier verification's finished job has this id.
    expect(jobs.enqueue.mock.calls).toEqual([['media.verify', { v: 1, fileId: 'f1' }, { jobId: 'verify-f1', rerun: true }]]);
  });

  it('drives a file already uploaded or processing through verification again, without a status change', async () => {
    const { service, lifecycle, jobs } = setup({ verifiable: ['f1'] });
    await expect(service.reprocess({ v: 1, fileId: 'f1' })).resolves.toEqual({ reprocessed: 1 });
    expect(lifecycle.reread.mock.calls).toEqual([['f1', VERIFIABLE]]);
    expect(jobs.enqueue.mock.calls).toEqual([['media.verify', { v: 1, fileId: 'f1' }, { jobId: 'verify-f1', rerun: true }]]);
  });

  it('leaves a file that is neither processed nor on its way alone', async () => {
    const { service, lifecycle, jobs } = setup();
    await expect(service.reprocess({ v: 1, fileId: 'f1' })).resolves.toEqual({ reprocessed: 0 });
    expect(lifecycle.reread.mock.calls).toEqual([['f1', VERIFIABLE]]);
    expect(jobs.enqueue).not.toHaveBeenCalled();
  });

  it('sweeps processed images and videos missing a variant, counting only the files it could reprocess', async () => {
    const images = filesNamed('img', 2);
    const videos = filesNamed('vid', 2);
    const { service, files, verified } = setup({ images, videos, reprocessable: ['img-0000', 'vid-0001'] });
    await expect(service.reprocess({ v: 1 })).resolves.toEqual({ reprocessed: 2 });
    expect(files.findMissingVariants.mock.calls).toEqual([[imageRule], [videoRule]]);
    expect(verified()).toEqual(['img-0000', 'vid-0001']);
  });

  it('pages through a sweep by the last id seen until a page comes back short', async () => {
    const images = filesNamed('img', 501);
    const { service, files, verified } = setup({ images, reprocessable: images.map((f) => f.id) });
    await expect(service.reprocess({ v: 1, tenantId: 't1' })).resolves.toEqual({ reprocessed: 501 });
    expect(files.findMissingVariants.mock.calls).toEqual([
      [{ ...imageRule, tenantId: 't1' }],
      [{ ...imageRule, tenantId: 't1', afterId: 'img-0499' }],
      [{ ...videoRule, tenantId: 't1' }],
    ]);
    expect(new Set(verified()).size).toBe(501);
  });

  it('looks for the video rendition only when VIDEO_TRANSCODE is on', async () => {
    const off = setup();
    await expect(off.service.reprocess({ v: 1, variant: 'video720' })).resolves.toEqual({ reprocessed: 0 });
    expect(off.files.findMissingVariants).not.toHaveBeenCalled();

    const on = setup({ transcode: true });
    await on.service.reprocess({ v: 1 });
    expect(on.files.findMissingVariants.mock.calls[1]).toEqual([{ ...videoRule, variants: ['poster', 'video720'] }]);
  });

  it('sweeps only the kind of file that has the variant asked for, looking for that variant alone', async () => {
    const { service, files } = setup({ transcode: true });
    await service.reprocess({ v: 1, variant: 'video720' });
    expect(files.findMissingVariants.mock.calls).toEqual([[{ ...videoRule, variants: ['video720'] }]]);
  });
});
