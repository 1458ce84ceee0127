import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export type { Redis };

/**
 * A Redis connection. `blocking` is for BullMQ workers and subscribers, which
 * must wait forever for a command (maxRetriesPerRequest: null); other
 * connections fail a command fast when Redis is down, so that an HTTP request
 * answers 503 instead of hanging. With `log`, the connection's own errors (a
 * reset, a failed reconnect) are logged at `warn` with its name; without it
 * they reach ioredis's fallback, which prints them unstructured, unless
 * something else listens, as BullMQ does on the connections it is given.
 */
export function createRedis(
  config: Pick<Config, 'REDIS_URL'>,
  options: { blocking?: boolean; name?: string; autoPipelining?: boolean; log?: Logger } = {},
): Redis {
  const redis = openRedis(config, options);
  const log = options.log;
  if (log) {
    redis.on('error', (error: unknown) => {
      log.warn({ err: error, connection: options.name }, 'redis connection error');
    });
  }
  return redis;
}

function openRedis(
  config: Pick<Config, 'REDIS_URL'>,
  options: { blocking?: boolean; name?: string; autoPipelining?: boolean },
): Redis {
  const base: RedisOptions = {
    connectionName: options.name,
    // Off unless asked for: each automatic pipeline copies every script the
    // connection defines, and BullMQ defines dozens, which cost a queue
    // connection more CPU than the round trips it saves.
    enableAutoPipelining: options.autoPipelining ?? false,
    lazyConnect: false,
  };
  if (options.blocking) {
    return new Redis(config.REDIS_URL, { ...base, maxRetriesPerRequest: null });
  }
  return new Redis(config.REDIS_URL, {
    ...base,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
  });
}

/** Redis keys of this project, all under the configured prefix. */
export function redisKeys(prefix: string) {
  return {
    idempotencyLock: (tenantId: string, scopeHash: string) =>
      `${prefix}:idem-lock:${tenantId}:${scopeHash}`,
    idempotencyCache: (tenantId: string, scopeHash: string) =>
      `${prefix}:idem:${tenantId}:${scopeHash}`,
    transferSettledChannel: `${prefix}:transfer-settled`,
    sweeperLock: `${prefix}:sweeper-lock`,
  };
}
