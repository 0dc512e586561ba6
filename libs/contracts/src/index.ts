export * from './errors';
export * from './file-status';
export * from './change-events';
export * from './storage-events';
export * from './api';
export * from './mime';
export * from './upload-plan';
