import { loadConfig } from '../src/config.js';
import { createSql } from '../src/db/sql.js';
import { createLogger } from '../src/logger.js';
import { startTransferWorkers } from '../src/worker/transfer-workers.js';

/*
 * The transfer worker process: applies transfers from every partition queue
 * and runs the recovery sweeper. Any number may run. SIGTERM or SIGINT stops
 * it after the jobs in hand finish; a second signal, or a shutdown that takes
 * longer than SHUTDOWN_TIMEOUT_MS, exits at once, which is safe because an
 * unfinished apply transaction simply rolls back.
 */

const config = loadConfig();
const logger = createLogger(config, 'worker');
const sql = createSql(config, { application: 'fintech-core-worker' });

async function main(): Promise<void> {
  const workers = await startTransferWorkers(config, { sql, logger });
  logger.info(
    { partitions: config.PARTITIONS, batchSize: config.APPLY_BATCH_SIZE },
    'worker started',
  );

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'worker stopping');
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out: exiting now');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();

    try {
      await workers.close();
      await sql.end({ timeout: 5 });
      logger.info('worker stopped');
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, 'worker did not stop cleanly');
      process.exitCode = 1;
    }
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'worker failed to start');
  await sql.end({ timeout: 5 });
  process.exitCode = 1;
});
