export * from './inspect';
export * from './image';
export * from './video';
