import type { Redis } from './connection.js';

/**
 * Deletes every key matching `pattern` (a SCAN pattern such as `fcdemo-1a2b:*`)
 * with SCAN and UNLINK, a batch at a time, and nothing else: never FLUSHDB,
 * since a Redis server is shared by runs, tests and deployments.
 */
export async function deleteKeysMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
