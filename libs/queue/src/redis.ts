import { Logger } from '@nestjs/common';
import { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { RedisEnv } from '@app/config';

/** A connection to Redis, standalone or a cluster: BullMQ, the rate limiter and pub/sub take either. */
export type RedisConnection = Redis | Cluster;

export type RedisRole = 'worker' | 'producer' | 'probe' | 'subscriber';

/**
 * ioredis connections by role. Workers and subscribers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`, BullMQ's requirement); producers fail fast so an HTTP request
 * does not hang while Redis is down; a probe answers "down" at once.
 */
export function createRedis(config: Pick<RedisEnv, 'REDIS_URL' | 'REDIS_CLUSTER'>, role: RedisRole): RedisConnection {
  return logErrors(connect(config, role), role);
}

function connect(config: Pick<RedisEnv, 'REDIS_URL' | 'REDIS_CLUSTER'>, role: RedisRole): RedisConnection {
  const options: RedisOptions = {
    connectionName: `upl-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  if (role === 'worker' || role === 'subscriber') options.maxRetriesPerRequest = null;
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
  if (!config.REDIS_CLUSTER) return new Redis(config.REDIS_URL, options);

  // A cluster: REDIS_URL names one node; its credentials and TLS apply to every node.
  const seed = new URL(config.REDIS_URL);
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...options,
      username: seed.username ? decodeURIComponent(seed.username) : undefined,
      password: seed.password ? decodeURIComponent(seed.password) : undefined,
      ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    // Sharded pub/sub (SSUBSCRIBE): one subscriber connection per master, each owner's channel on its slot's master.
    shardedSubscribers: role === 'subscriber',
  };
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], clusterOptions);
}

/**
 * The BullMQ key prefix of one queue. The hash tag puts all of a queue's keys in one slot, as
 * BullMQ's Lua scripts need on a cluster, and different queues in different slots, so the
 * queues spread over the cluster's masters.
 */
export function queueKeyPrefix(prefix: string, queue: string): string {
  return `${prefix}:{${queue}}`;
}

const logger = new Logger('Redis');
/** One line per connection and kind of error while Redis is away, not one per retry. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * A connection's errors as structured warnings. Without a listener ioredis writes each one to the
 * console as plain text ("[ioredis] Unhandled error event ..."), one per retry, breaking the
 * services' JSON-only logs (issue #16); its retry strategy reconnects either way.
 */
function logErrors(connection: RedisConnection, role: RedisRole): RedisConnection {
  let last = { message: '', at: 0 };
  connection.on('error', (error: Error) => {
    const now = Date.now();
    if (error.message === last.message && now - last.at < ERROR_LOG_INTERVAL_MS) return;
    last = { message: error.message, at: now };
    logger.warn({ role, err: error }, 'redis connection error; retrying');
  });
  return connection;
}
