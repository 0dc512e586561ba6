import { Redis, RedisOptions } from 'ioredis';

/**
 * ioredis connections for BullMQ. Workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`, BullMQ's requirement); producers fail fast so an HTTP request
 * does not hang while Redis is down.
 */
export function createRedis(url: string, role: 'worker' | 'producer' | 'probe'): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    connectionName: `upl-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  if (role === 'worker') options.maxRetriesPerRequest = null;
  if (role === 'producer') {
    options.maxRetriesPerRequest = 1;
    options.enableOfflineQueue = false;
  }
  if (role === 'probe') {
    // A probe must answer "down" at once when disconnected, not queue the PING until Redis returns.
    options.maxRetriesPerRequest = 0;
    options.enableOfflineQueue = false;
    options.connectTimeout = 1_000;
  }
  return new Redis(url, options);
}
