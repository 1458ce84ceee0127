import { randomBytes } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config.js';

/** Set by the global setup for every test file: the run's own database. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fintech_core_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every Redis prefix of this test run starts with it; the global setup names the run. */
export const TEST_REDIS_PREFIX_ROOT = process.env.TEST_REDIS_PREFIX_ROOT ?? 'fctest';

/**
 * A configuration for one test file or case: the test database, and a Redis
 * prefix of its own so that queues and caches never meet another test's.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `${TEST_REDIS_PREFIX_ROOT}-${randomBytes(4).toString('hex')}`,
    PARTITIONS: '4',
    SWEEPER_INTERVAL_MS: '500',
    SWEEPER_PENDING_AFTER_MS: '2000',
    JOB_BACKOFF_MS: '50',
    TRANSFER_JOB_LOCK_MS: '5000',
    WORKER_LEASE_MS: '1000',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_RETRY_SCHEDULE_MS: '0,200,400,800',
    PORT: '0',
    ...overrides,
  });
}

export { configToEnv as configEnv } from '../../src/config.js';
