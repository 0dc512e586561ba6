/**
 * The upload state machine (docs/architecture.md#state-machine). Every transition is applied as a
 * guarded update `... WHERE status IN (from)`, so a duplicate or late event finds the row already
 * moved on and changes nothing.
 */
export const FILE_STATUSES = [
  'pending',
  'uploading',
  'completing',
  'uploaded',
  'processing',
  'ready',
  'rejected',
  'failed',
  'aborted',
  'expired',
  'deleted',
] as const;

export type FileStatusName = (typeof FILE_STATUSES)[number];

/** For each target status, the statuses it may be entered from. */
export const TRANSITIONS: Record<FileStatusName, readonly FileStatusName[]> = {
  pending: [],
  uploading: ['pending'],
  completing: ['pending', 'uploading'],
  // A single PUT goes straight from pending/uploading once storage confirms the object.
  uploaded: ['pending', 'uploading', 'completing'],
  // From ready or failed when an operator reprocesses the file.
  processing: ['uploaded', 'ready', 'failed'],
  ready: ['uploaded', 'processing'],
  rejected: ['pending', 'uploading', 'completing', 'uploaded', 'processing'],
  failed: ['uploaded', 'processing'],
  aborted: ['pending', 'uploading', 'completing'],
  expired: ['pending', 'uploading', 'completing'],
  deleted: ['uploaded', 'processing', 'ready', 'rejected', 'failed'],
};

export const TERMINAL_STATUSES: readonly FileStatusName[] = ['rejected', 'aborted', 'expired', 'deleted'];

export function canTransition(from: FileStatusName, to: FileStatusName): boolean {
  return TRANSITIONS[to].includes(from);
}
