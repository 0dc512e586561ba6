export * from './schema';
export * from './config.module';
