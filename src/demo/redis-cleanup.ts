import type { Config } from '../config.js';
import { createRedis } from '../redis/connection.js';

/**
 * Deletes the keys the demo's processes left in Redis. The prefix is the
 * demo's own random one, so no other run's queues or caches are touched.
 */
export async function clearRedisPrefix(config: Config): Promise<number> {
  const redis = createRedis(config, { name: 'fintech-core-demo-cleanup' });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${config.REDIS_PREFIX}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
