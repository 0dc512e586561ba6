// The tracing setup (docs/tracing.md): its own entry point, apart from @app/observability, because it
// runs before Nest, Fastify, http, pg and ioredis are loaded and must not load them itself.
export * from './plan';
export * from './sdk';
