import type { Config } from '../config.js';
import { createRedis } from '../redis/connection.js';
import { deleteKeysMatching } from '../redis/delete-keys.js';

/**
 * Deletes the keys the demo's processes left in Redis. The prefix is the
 * demo's own random one, so no other run's queues or caches are touched.
 */
export async function clearRedisPrefix(config: Config): Promise<number> {
  const redis = createRedis(config, { name: 'fintech-core-demo-cleanup' });
  try {
    return await deleteKeysMatching(redis, `${config.REDIS_PREFIX}*`);
  } finally {
    redis.disconnect();
  }
}
