/** Change feed event types (api-v1.md, Changes). Clients must ignore types they do not know. */
export const CHANGE_TYPES = [
  'upload.created',
  'upload.aborted',
  'upload.expired',
  'file.uploaded',
  'file.processing',
  'file.ready',
  'file.rejected',
  'file.failed',
  'file.deleted',
  /** A variant made after `file.ready` (the 720p rendition of a video). */
  'file.variant_added',
] as const;

export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface ChangeMessage {
  /** Opaque to clients; strictly increasing per owner. */
  cursor: string;
  type: ChangeType;
  fileId: string | null;
  at: string;
  data: Record<string, unknown>;
}
