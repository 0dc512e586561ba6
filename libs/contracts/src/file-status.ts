/**
 * The statuses an upload and its file move through, as clients see them (api-v1.md). Which status
 * may follow which, and what each step does, is the state machine in libs/lifecycle.
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
