export * from './common';
export * from './admin';
export * from './tokens';
export * from './uploads';
export * from './files';
export * from './changes';
export * from './usage';
