/** What chunk-tracker understands of an S3 event notification record, after decoding. */
export interface StorageEvent {
  /** e.g. ObjectCreated:Put, ObjectCreated:CompleteMultipartUpload, ObjectRemoved:Delete */
  eventName: string;
  bucket: string;
  /** Decoded object key (the notification URL-encodes it). */
  key: string;
  size: number | null;
  etag: string | null;
  sequencer: string | null;
  eventTime: string | null;
}
