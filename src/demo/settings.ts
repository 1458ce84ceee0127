import { randomBytes } from 'node:crypto';
import { type Config, configToEnv, loadConfig } from '../config.js';

export { configToEnv as configEnv };

export const DEMO_DATABASE = 'fintech_core_demo';

/**
 * The configuration every demo process shares: the base settings (so a
 * machine whose PostgreSQL or Redis is elsewhere still works), but a database
 * and a Redis prefix of the demo's own, quiet logs, a sweeper that acts
 * within seconds, a shutdown that fits inside the demo's own grace period,
 * and the web process on the port given. Webhook URLs on 127.0.0.1 are
 * allowed because the demo's own receiver, and nothing else, listens there.
 */
export function demoConfig(base: Config, port: number): Config {
  const database = new URL(base.DATABASE_URL);
  database.pathname = `/${DEMO_DATABASE}`;
  return loadConfig({
    ...configToEnv(base),
    DATABASE_URL: database.toString(),
    REDIS_PREFIX: `fcdemo-${randomBytes(4).toString('hex')}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    SWEEPER_INTERVAL_MS: '1000',
    SWEEPER_PENDING_AFTER_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  });
}
