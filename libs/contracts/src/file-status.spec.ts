import { canTransition, FILE_STATUSES, TERMINAL_STATUSES, TRANSITIONS } from './file-status';

describe('upload state machine', () => {
  it('follows the happy path pending -> uploading -> completing -> uploaded -> processing -> ready', () => {
    const path = ['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1], path[i])).toBe(true);
  });

  it('never leaves a terminal status except that a rejected file may be deleted', () => {
    for (const from of TERMINAL_STATUSES) {
      const exits = FILE_STATUSES.filter((to) => canTransition(from, to));
      expect(exits).toEqual(from === 'rejected' ? ['deleted'] : []);
    }
  });

  it('does not allow a step backwards into an upload state', () => {
    expect(canTransition('ready', 'uploading')).toBe(false);
    expect(canTransition('uploaded', 'completing')).toBe(false);
    expect(canTransition('ready', 'uploaded')).toBe(false);
  });

  it('makes every status but pending reachable', () => {
    for (const to of FILE_STATUSES) expect(TRANSITIONS[to].length > 0 || to === 'pending').toBe(true);
  });
});
