// The HTTP and event contracts clients build against (api-v1.md): request and answer schemas, the
// status and change-type names they carry, and the error codes. No behaviour lives here.
export * from './errors';
export * from './file-status';
export * from './change-events';
export * from './api';
export * from './docs';
