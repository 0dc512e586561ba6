export * from './access';
export * from './auth.guard';
export * from './credentials.service';
export * from './principal';
export * from './rate-limit.guard';
