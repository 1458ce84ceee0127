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
      if (firstReport(error)) {
        log.warn({ err: error, connection: options.name }, 'redis connection error');
      }
    });
  }
  return redis;
}

/** Errors already logged, so that one seen by several listeners is logged once. */
const reported = new WeakSet<object>();

/**
 * Whether `error` is reported here for the first time. A connection's error
 * reaches its own listener and every BullMQ queue built on it; the first to
 * see it logs it, and the others keep quiet.
 */
export function firstReport(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  if (reported.has(error)) return false;
  reported.add(error);
  return true;
}

/**
 * Logs the errors a BullMQ queue reports, except those its connection has
 * already logged. A queue with no listener prints each with `console.error`,
 * once per queue, outside the JSON log.
 */
export function logQueueErrors(
  queue: { name: string; on(event: 'error', listener: (error: Error) => void): unknown },
  log: Logger,
): void {
  queue.on('error', (error) => {
    if (firstReport(error)) log.warn({ err: error, queue: queue.name }, 'queue error');
  });
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
