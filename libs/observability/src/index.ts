export * from './dependency-check';
export * from './lifecycle';
export * from './metrics.service';
export * from './logger';
export * from './redact';
export * from './observability.module';
export * from './request-context';
