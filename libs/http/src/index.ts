export * from './problem';
export * from './problem.filter';
export * from './bootstrap';
export * from './id.pipe';
export * from './openapi';
export * from './page-cursor';
