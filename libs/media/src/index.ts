export * from './inspect';
export * from './image';
