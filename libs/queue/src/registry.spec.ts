import { JOBS, jobsOfQueue, QUEUES } from './registry';

describe('job registry', () => {
  it('puts every job on a known queue with a bounded retry policy', () => {
    for (const [name, definition] of Object.entries(JOBS)) {
      expect(Object.keys(QUEUES)).toContain(definition.queue);
      expect(definition.options.attempts).toBeGreaterThanOrEqual(1);
      expect(definition.options.removeOnFail).toBeDefined();
      expect(name).toMatch(/^[a-z-]+\.[a-z-]+$/);
    }
  });

  it('lists the jobs of a queue', () => {
    expect(jobsOfQueue('tracker').sort()).toEqual(['storage-events.prune', 'upload.complete', 'upload.part-reported', 'uploads.reconcile']);
    expect(jobsOfQueue('sync')).toEqual(['changes.prune', 'webhooks.sweep']);
    expect(jobsOfQueue('webhooks')).toEqual(['webhook.deliver']);
  });
});
