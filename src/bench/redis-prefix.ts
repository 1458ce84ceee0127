import { createRedis } from '../redis/connection.js';

/**
 * Deletes every key under the run's own prefix with SCAN and UNLINK, and
 * nothing else: the database is shared with the tests and other runs.
 */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix.startsWith('fcbench-')) throw new Error(`refusing to clear prefix ${prefix}`);
  const redis = createRedis({ REDIS_URL: redisUrl }, { name: 'fintech-core-bench-cleanup' });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
