import { FILE_STATUSES, FileStatusName } from '@app/contracts';
import { canMove, QUOTA_HELD, quotaEffect, STEPS, TERMINAL } from './state-machine';

describe('the file state machine', () => {
  it('follows the happy path pending -> uploading -> completing -> uploaded -> processing -> ready', () => {
    const path = ['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready'] as const;
    for (let i = 1; i < path.length; i++) expect(canMove(path[i - 1], path[i])).toBe(true);
  });

  it('never leaves a terminal status except that a rejected file may be deleted', () => {
    for (const from of TERMINAL) {
      const exits = FILE_STATUSES.filter((to) => canMove(from, to));
      expect(exits).toEqual(from === 'rejected' ? ['deleted'] : []);
    }
  });

  it('does not allow a step backwards into an upload state', () => {
    expect(canMove('ready', 'uploading')).toBe(false);
    expect(canMove('uploaded', 'completing')).toBe(false);
    expect(canMove('ready', 'uploaded')).toBe(false);
  });

  it('reaches every status but pending (where uploads start) by some step', () => {
    const reached = new Set<FileStatusName>(Object.values(STEPS).map((s) => s.to));
    expect(FILE_STATUSES.filter((s) => !reached.has(s))).toEqual(['pending']);
  });

  it('gives every step a quota rule for every status it leaves', () => {
    for (const step of Object.values(STEPS)) for (const from of step.from) expect(() => quotaEffect(from, step.to)).not.toThrow();
  });

  it.each([
    ['confirmUploaded', 'completing', 'commit'],
    ['rejectUpload', 'uploading', 'release'],
    ['abort', 'pending', 'release'],
    ['expire', 'completing', 'release'],
    ['rejectContent', 'processing', 'free'],
    ['delete', 'ready', 'free'],
    ['delete', 'failed', 'free'],
    ['delete', 'rejected', null],
    ['fail', 'processing', null],
    ['reprocess', 'ready', null],
  ] as const)('%s from %s has the quota effect %s', (step, from, effect) => {
    expect(STEPS[step].from).toContain(from);
    expect(quotaEffect(from, STEPS[step].to)).toBe(effect);
  });

  it('holds quota for exactly the statuses whose bytes are expected or stored', () => {
    expect(
      Object.entries(QUOTA_HELD)
        .filter(([, held]) => held !== 'none')
        .map(([s]) => s),
    ).toEqual(['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready', 'failed']);
  });
});
