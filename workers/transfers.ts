import { loadConfigOrExit } from '../src/config.js';
import { requireMigrations } from '../src/db/schema-check.js';
import { createSql } from '../src/db/sql.js';
import { exitOnSignalsUntilStarted, stopOnSignals } from '../src/lib/process-lifecycle.js';
import { createLogger } from '../src/logger.js';
import { startTransferWorkers } from '../src/worker/transfer-workers.js';

/*
 * The transfer worker process: applies transfers from every partition queue
 * and runs the recovery sweeper. Any number may run. SIGTERM or SIGINT stops
 * it after the batch in hand commits; a second signal, or a shutdown longer
 * than SHUTDOWN_TIMEOUT_MS, exits at once, which is safe because an
 * unfinished apply transaction simply rolls back.
 */

const config = loadConfigOrExit();
const logger = createLogger(config, 'worker');
const sql = createSql(config, { application: 'fintech-core-worker' });

async function main(): Promise<void> {
  const started = exitOnSignalsUntilStarted('worker', logger);
  await requireMigrations(sql, logger, (error) => {
    // Nothing can have been done on a database without its tables.
    logger.fatal({ err: error }, 'the database is not migrated: worker exiting');
    process.exit(1);
  });
  const workers = await startTransferWorkers(config, {
    sql,
    logger,
    onStall: (stalledMs) => {
      // Its connections hold no answer that will come; other workers take
      // its partitions once their queue locks lapse, and nothing half-done
      // stays: an apply transaction that never commits rolls back.
      logger.fatal({ stalledMs }, 'PostgreSQL has not answered a transfer job: worker exiting');
      process.exit(1);
    },
  });
  started();
  logger.info(
    { partitions: config.PARTITIONS, batchSize: config.APPLY_BATCH_SIZE },
    'worker started',
  );
  stopOnSignals({
    name: 'worker',
    logger,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    stop: async () => {
      await workers.close();
      await sql.end({ timeout: 5 });
    },
  });
}

main().catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'worker failed to start');
  await sql.end({ timeout: 5 });
  process.exitCode = 1;
});
