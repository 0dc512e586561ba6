// The configuration library without its Nest module: what code that runs before Nest is loaded
// (the tracing setup, docs/tracing.md) may import.
export * from './env';
export * from './load-config';
