import { createRedis } from '../redis/connection.js';
import { deleteKeysMatching } from '../redis/delete-keys.js';

/**
 * Deletes every key under the run's own prefix with SCAN and UNLINK, and
 * nothing else: the database is shared with the tests and other runs.
 */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  if (!prefix.startsWith('fcbench-')) throw new Error(`refusing to clear prefix ${prefix}`);
  const redis = createRedis({ REDIS_URL: redisUrl }, { name: 'fintech-core-bench-cleanup' });
  try {
    return await deleteKeysMatching(redis, `${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}
