export * from './registry';
export * from './on-job.decorator';
export * from './job-queue';
export * from './redis';
export * from './worker-host';
export * from './queue.module';
export * from './change-publisher';
