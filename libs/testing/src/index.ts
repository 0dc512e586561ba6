export * from './env';
export * from './database';
export * from './moto';
export * from './processes';
export * from './redis-server';
export * from './wait';
export * from './media';
