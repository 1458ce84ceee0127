import { Redis } from 'ioredis';
import { dropDatabase, migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL, TEST_REDIS_PREFIX_ROOT, TEST_REDIS_URL } from './env.js';

/** Starts every test run on a freshly migrated database of its own. */
export async function setup(): Promise<void> {
  await dropDatabase(TEST_DATABASE_URL);
  await migrate(TEST_DATABASE_URL);
}

/** Removes the Redis keys the run left behind; the default prefix is never touched. */
export async function teardown(): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${TEST_REDIS_PREFIX_ROOT}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
