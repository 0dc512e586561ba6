export * from './inspect';
export * from './image';
export * from './video';
export * from './sha256-off-thread';
export * from './text-types';
export * from './type-agreement';
export * from './clamd';
