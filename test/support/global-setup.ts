import { Redis } from 'ioredis';
import { dropDatabase, migrate } from '../../src/db/migrate.js';
import { deleteKeysMatching } from '../../src/redis/delete-keys.js';
import { TEST_REDIS_URL } from './env.js';

const BASE_URL = 'postgres://postgres@127.0.0.1:5432/fintech_core_test';

/**
 * Starts every test run on a freshly migrated database of its own, named
 * after the run's process so that two runs on one machine never meet. Test
 * files inherit its address through TEST_DATABASE_URL.
 */
export async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? `${BASE_URL}_${process.pid}`;
  process.env.TEST_DATABASE_URL = url;
  process.env.TEST_REDIS_PREFIX_ROOT = `fctest${process.pid}`;
  await dropDatabase(url);
  await migrate(url);
}

/** Drops the run's database and removes the Redis keys this run left behind. */
export async function teardown(): Promise<void> {
  const root = process.env.TEST_REDIS_PREFIX_ROOT ?? 'fctest';
  const url = process.env.TEST_DATABASE_URL;
  if (url?.startsWith(`${BASE_URL}_`)) await dropDatabase(url);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    await deleteKeysMatching(redis, `${root}-*`);
  } finally {
    redis.disconnect();
  }
}
