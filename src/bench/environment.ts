import { randomBytes } from 'node:crypto';
import { type Config, configToEnv, loadConfig } from '../config.js';
import type { BenchOptions } from './args.js';

export const BENCH_PREFIX_ROOT = 'fcbench';

/**
 * The configuration every process of a run shares: the benchmark's own
 * database and a Redis prefix of its own, so that nothing of the default
 * database, the tests or another run is touched. Everything else keeps the
 * defaults an operator gets, because those are what the figures describe,
 * unless `--set` names a setting to try instead; a bad value stops the run
 * as it would stop a process.
 */
export function benchConfig(options: Pick<BenchOptions, 'databaseName' | 'settings'>): Config {
  return loadConfig({
    ...options.settings,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${options.databaseName}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `${BENCH_PREFIX_ROOT}-${randomBytes(4).toString('hex')}`,
    HOST: '127.0.0.1',
    // Opens /metrics, which the benchmark reads for the web processes' heap.
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
  });
}

/** The configuration as environment variables for a child process. */
export function configEnv(config: Config, overrides: Record<string, string> = {}) {
  const env = configToEnv(config);
  const inherited = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  for (const key of inherited) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...overrides };
}
