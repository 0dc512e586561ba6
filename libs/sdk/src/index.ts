export * from './api';
export * from './client';
export * from './sources';
export * from './retry';
export { Upload, StorageUploadError } from './upload';
export type { UploadOptions, UploadProgress, UploadResult } from './upload';
export * from './changes';
