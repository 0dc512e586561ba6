import type { ChangeType, FileStatusName } from '@app/contracts';

/**
 * The file state machine, in one place (docs/architecture.md#state-machine, whose diagram is
 * generated from this file). Apps state intents (`FileLifecycle.confirmUploaded(...)`); they never
 * spell a status list or build a transition. Adding a status or a step is an edit here and in the
 * contracts' names (docs/adr/0014-file-lifecycle.md).
 */

// ---- Named status sets: each written once, used everywhere by name. ----

/** An upload whose bytes storage has not confirmed yet; its size is reserved against the quota. */
export const AWAITING_BYTES = ['pending', 'uploading', 'completing'] as const satisfies readonly FileStatusName[];
/** An upload that may still be given part URLs and take part reports (not yet being completed). */
export const ACCEPTING_PARTS = ['pending', 'uploading'] as const satisfies readonly FileStatusName[];
/** Storage confirmed the bytes and the file has not failed: on its way to `ready`, or there. */
export const UPLOAD_COMPLETED = ['uploaded', 'processing', 'ready'] as const satisfies readonly FileStatusName[];
/** The bytes are in storage and count against the quota; the owner sees (lists, reads) the file. */
export const STORED = ['uploaded', 'processing', 'ready', 'failed'] as const satisfies readonly FileStatusName[];
/** Stored content that verification may run on (again, after an interrupted job). */
export const VERIFIABLE = ['uploaded', 'processing'] as const satisfies readonly FileStatusName[];
/** A processed file an operator may send through processing again. */
export const PROCESSED = ['ready', 'failed'] as const satisfies readonly FileStatusName[];
/** An upload that ended without ever being stored; aborting it again is a no-op. */
export const ABANDONED = ['aborted', 'expired'] as const satisfies readonly FileStatusName[];
/** Nothing leaves these but a rejected file's deletion; a file here holds no stored object. */
export const TERMINAL = ['rejected', 'aborted', 'expired', 'deleted'] as const satisfies readonly FileStatusName[];

/** Every status that is not terminal: a file here keeps its stored objects alive. */
export const LIVE = ['pending', 'uploading', 'completing', 'uploaded', 'processing', 'ready', 'failed'] as const satisfies readonly FileStatusName[];

export const isIn = (set: readonly FileStatusName[], status: FileStatusName): boolean => set.includes(status);

// ---- Quota: what each status holds, and so what every step does to it. ----

/** What a file in each status holds of its tenant's quota. */
export const QUOTA_HELD: Record<FileStatusName, 'reserved' | 'used' | 'none'> = {
  pending: 'reserved',
  uploading: 'reserved',
  completing: 'reserved',
  uploaded: 'used',
  processing: 'used',
  ready: 'used',
  failed: 'used',
  rejected: 'none',
  aborted: 'none',
  expired: 'none',
  deleted: 'none',
};

/**
 * What a step does to the tenant's quota, in the same transaction: derived from what the two
 * statuses hold, so no step can forget it or count it twice.
 * - `commit`: reserved -> used (storage confirmed the bytes);
 * - `release`: reserved -> free (the upload will never complete);
 * - `free`: used -> free (stored bytes are gone).
 */
export type QuotaEffect = 'commit' | 'release' | 'free';

export function quotaEffect(from: FileStatusName, to: FileStatusName): QuotaEffect | null {
  const before = QUOTA_HELD[from];
  const after = QUOTA_HELD[to];
  if (before === after) return null;
  if (before === 'reserved' && after === 'used') return 'commit';
  if (before === 'reserved' && after === 'none') return 'release';
  if (before === 'used' && after === 'none') return 'free';
  throw new Error(`no quota rule for ${from} -> ${to}`);
}

// ---- The steps. ----

export interface Step {
  /** Statuses the step may leave; a file elsewhere is left as it is (a late or repeated event). */
  from: readonly FileStatusName[];
  to: FileStatusName;
  /** The change the owner's feed (and webhooks) hear of, written in the same transaction. */
  change: ChangeType | null;
  /** Why the step exists, shown in the generated diagram's notes. */
  why: string;
}

/**
 * Every step a file can take, by intent. Each is one guarded update (`WHERE status IN (from)`),
 * its quota effect (from QUOTA_HELD) and its change event, all in one transaction.
 */
export const STEPS = {
  startUploading: { from: ['pending'], to: 'uploading', change: null, why: 'the first part was signed or reported' },
  markCompleting: { from: AWAITING_BYTES, to: 'completing', change: null, why: 'the client asked to complete; parts checked' },
  confirmUploaded: { from: AWAITING_BYTES, to: 'uploaded', change: 'file.uploaded', why: "storage's event (or HEAD) shows the declared size" },
  rejectUpload: { from: AWAITING_BYTES, to: 'rejected', change: 'file.rejected', why: 'storage holds other bytes or parts than declared' },
  abort: { from: AWAITING_BYTES, to: 'aborted', change: 'upload.aborted', why: 'the client cancelled, or storage refused to start it' },
  expire: { from: AWAITING_BYTES, to: 'expired', change: 'upload.expired', why: 'not completed before its deadline' },
  // Only while it takes parts: once completing, chunk-tracker's own completion removes the upload id.
  loseUpload: { from: ACCEPTING_PARTS, to: 'aborted', change: 'upload.aborted', why: 'storage no longer holds the multipart upload' },
  startProcessing: { from: ['uploaded'], to: 'processing', change: 'file.processing', why: 'verification started' },
  reprocess: { from: PROCESSED, to: 'processing', change: 'file.processing', why: 'an operator reprocesses the file' },
  // Issue #11: a write after the upload (a reused URL) must not leave a stale `ready`; verification
  // runs again, and a verified file whose bytes no longer hash to its sha256 then `fail`s (content_changed).
  recheck: { from: STORED, to: 'processing', change: 'file.processing', why: "storage reports another write of the file's object" },
  markReady: { from: ['processing'], to: 'ready', change: 'file.ready', why: 'verified, variants made' },
  rejectContent: { from: ['processing'], to: 'rejected', change: 'file.rejected', why: 'the content is unacceptable (hash, type, undecodable)' },
  fail: { from: ['processing'], to: 'failed', change: 'file.failed', why: 'processing gave up (a timeout); bytes kept' },
  delete: { from: [...STORED, 'rejected'], to: 'deleted', change: 'file.deleted', why: 'the owner deleted the file' },
  removedFromStorage: { from: UPLOAD_COMPLETED, to: 'deleted', change: 'file.deleted', why: 'its object was removed behind the platform' },
} as const satisfies Record<string, Step>;

export type StepName = keyof typeof STEPS;

/** The statuses a file is created in (an upload, or an instant upload's ready copy). */
export const INITIAL = { upload: 'pending', instantCopy: 'ready' } as const satisfies Record<string, FileStatusName>;

/** Whether `from -> to` is a step of the machine (for tests and tools). */
export function canMove(from: FileStatusName, to: FileStatusName): boolean {
  return Object.values(STEPS).some((s) => s.to === to && (s.from as readonly FileStatusName[]).includes(from));
}
