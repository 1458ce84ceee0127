import { loadConfigOrExit } from '../src/config.js';
import { requireMigrations } from '../src/db/schema-check.js';
import { createSql } from '../src/db/sql.js';
import { exitOnSignalsUntilStarted, stopOnSignals } from '../src/lib/process-lifecycle.js';
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

const config = loadConfigOrExit();
const logger = createLogger(config, 'webhooks');
const sql = createSql(config, { application: 'fintech-core-webhooks' });

async function main(): Promise<void> {
  const started = exitOnSignalsUntilStarted('webhooks', logger);
  await requireMigrations(sql, logger, (error) => {
    // Nothing can have been done on a database without its tables.
    logger.fatal({ err: error }, 'the database is not migrated: webhooks exiting');
    process.exit(1);
  });
  const runtime = await startWebhookRuntime(config, { sql, logger });
  started();
  logger.info(
    {
      concurrency: config.WEBHOOK_CONCURRENCY,
      allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS,
    },
    'webhooks started',
  );
  stopOnSignals({
    name: 'webhooks',
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    stop: async () => {
      await runtime.close();
      await sql.end({ timeout: 5 });
    },
  });
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'webhooks failed to start');
  await sql.end({ timeout: 5 });
  process.exitCode = 1;
});
