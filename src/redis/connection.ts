import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import { errorLog } from '../lib/error-log.js';
import type { Logger } from '../logger.js';

export type { Redis };

/**
 * A Redis connection. `blocking` is for BullMQ workers and subscribers, which
 * must wait forever for a command (maxRetriesPerRequest: null); other
 * connections fail a command fast when Redis is down, so that an HTTP request
 * answers 503 instead of hanging. With `log`, the connection's own errors (a
 * reset, a failed reconnect) are logged at `warn` with its name: the first of
 * an outage at once, then one line every ERROR_LOG_INTERVAL_MS with the
 * number of errors since, and one at `info` when the connection is back.
 * Without `log` they reach ioredis's fallback, which prints them
 * unstructured, unless something else listens, as BullMQ does on the
 * connections it is given.
 */
export function createRedis(
  config: Pick<Config, 'REDIS_URL'>,
  options: { blocking?: boolean; name?: string; log?: Logger } = {},
): Redis {
  const redis = openRedis(config, options);
  keepDuplicates(redis);
  const log = options.log;
  if (log) {
    const connection = options.name;
    const errors = errorLog(log, { connection }, 'redis connection error');
    redis.on('error', errors.report);
    redis.on('ready', () => {
      const seen = errors.reset();
      if (seen > 0) log.info({ connection, errors: seen }, 'redis connection restored');
    });
  }
  return redis;
}

/**
 * Subscribes `redis` to `channel`, waiting first while a new connection is
 * being set up. In that state ioredis writes a SUBSCRIBE at once, ahead of its
 * own ready check, whose INFO is then refused in subscriber mode: ioredis
 * reports an error, drops the connection and subscribes again on the next.
 * Subscribing once the connection is ready avoids the error and the gap.
 * Otherwise ioredis keeps the command until the connection is ready, or
 * fails it when the connection has ended.
 */
export async function subscribeWhenReady(redis: Redis, channel: string): Promise<void> {
  if (redis.status === 'connect') {
    await new Promise<void>((resolve) => {
      const settle = () => {
        redis.off('ready', settle);
        redis.off('close', settle);
        resolve();
      };
      redis.on('ready', settle);
      redis.on('close', settle);
    });
  }
  await redis.subscribe(channel);
}

/**
 * Whether Redis answers a PING within the command timeout. A connection stays
 * `ready` to a Redis that has stopped answering with its socket still open (a
 * server stopped or stuck), and only a command's timeout tells; one that is
 * not `ready` is taken as not answering at once. `probe` must not be a
 * `blocking` connection, which waits forever.
 */
export async function redisAnswers(probe: Redis): Promise<boolean> {
  if (probe.status !== 'ready') return false;
  return probe.ping().then(
    () => true,
    () => false,
  );
}

/**
 * Cuts connections at once: every command they still wait for fails, so that
 * a stop does not wait for replies from a Redis that will not give them.
 */
export function cutRedis(connections: Redis[]): void {
  for (const connection of connections) {
    cutRedis(duplicates.get(connection) ?? []);
    const socket = connection.stream as Redis['stream'] | undefined;
    connection.disconnect();
    // disconnect() only ends the socket, which then stays open until Redis
    // closes its side: a Redis that answers nothing never does, and the
    // socket would keep the process alive after it has stopped.
    socket?.destroy();
  }
}

/** The connections made from each connection by `duplicate()`. */
const duplicates = new WeakMap<Redis, Redis[]>();

/**
 * Records the copies made of `redis`, so that `cutRedis` cuts them with it:
 * a BullMQ worker opens its blocking connection as a duplicate of the one it
 * is given, and closes it, even when forced, with the same disconnect().
 */
function keepDuplicates(redis: Redis): void {
  const copies: Redis[] = [];
  duplicates.set(redis, copies);
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const copy = duplicate(...args);
    copies.push(copy);
    return copy;
  };
}

/**
 * Closes connections: QUIT, so that replies still due arrive, on those that
 * are up; the others (down, or never connected, whose queued commands would
 * hold a QUIT forever) are disconnected at once, as is one whose QUIT fails.
 */
export async function closeRedis(connections: Redis[]): Promise<void> {
  await Promise.all(
    connections.map(async (connection) => {
      if (connection.status !== 'ready') {
        connection.disconnect();
        return;
      }
      await connection.quit().catch(() => connection.disconnect());
    }),
  );
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
  queue.on('error', errorLog(log, { queue: queue.name }, 'queue error').report);
}

function openRedis(
  config: Pick<Config, 'REDIS_URL'>,
  options: { blocking?: boolean; name?: string },
): Redis {
  const base: RedisOptions = {
    connectionName: options.name,
    // Off: automatic pipelines cost more than the round trips they save (see
    // `inOneWrite`), and on BullMQ's connections each copies the dozens of
    // scripts BullMQ defines.
    enableAutoPipelining: false,
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
