import { loadConfig } from '../src/config.js';
import { createSql } from '../src/db/sql.js';
import { createLogger } from '../src/logger.js';
import { startWebhookRuntime } from '../src/webhooks/runtime.js';

/*
 * The webhooks process: turns outbox events into deliveries, makes delivery
 * attempts, and re-enqueues deliveries whose jobs Redis lost. Any number may
 * run. SIGTERM or SIGINT stops dispatching and lets the attempts in hand
 * finish; a second signal, or a shutdown longer than SHUTDOWN_TIMEOUT_MS,
 * exits at once. That is safe: an attempt cut short was not recorded, so its
 * job runs again and the receiver sees the same webhook-id once more.
 */

const config = loadConfig();
const logger = createLogger(config, 'webhooks');
const sql = createSql(config, { application: 'fintech-core-webhooks' });

async function main(): Promise<void> {
  const runtime = await startWebhookRuntime(config, { sql, logger });
  logger.info(
    {
      concurrency: config.WEBHOOK_CONCURRENCY,
      allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS,
    },
    'webhooks started',
  );

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'webhooks stopping');
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out: exiting now');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();

    try {
      await runtime.close();
      await sql.end({ timeout: 5 });
      logger.info('webhooks stopped');
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, 'webhooks did not stop cleanly');
      process.exitCode = 1;
    }
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'webhooks failed to start');
  await sql.end({ timeout: 5 });
  process.exitCode = 1;
});
