// The package's main entry (`@upload-platform/sdk`): browser-safe, so nothing here or below may
// import a Node built-in (libs/sdk/build.mjs refuses a build that does). Node-only code is in node.ts.
export * from './api';
export * from './client';
export * from './sources';
export * from './retry';
export { Upload, StorageUploadError } from './upload';
export type { UploadOptions, UploadProgress, UploadResult } from './upload';
export type { XhrConstructor, XhrLike } from './transport';
export * from './changes';
