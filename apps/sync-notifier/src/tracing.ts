// main.ts's first import: the instrumentations patch http, pg and ioredis as they are loaded, so
// tracing starts before anything loads them (docs/tracing.md).
import { startTracing } from '@app/observability/tracing';

startTracing('sync-notifier');
