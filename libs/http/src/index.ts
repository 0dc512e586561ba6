export * from './problem';
export * from './problem.filter';
export * from './bootstrap';
