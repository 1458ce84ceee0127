import type { Config } from '../config.js';
import {
  deleteExpiredIdempotencyKeys,
  findStalePendingTransfers,
  type StalePendingTransfer,
  tryLockSweeper,
} from '../data/recovery.js';
import { type Sql, withTransaction } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import { type Periodic, runPeriodically } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { ensureLiveJob, repairAll } from '../queue/job-repair.js';
import { partitionOf } from '../queue/partitions.js';
import type { TransferQueues } from '../queue/transfer-queues.js';

const STALE_LIMIT = 1_000;
const KEY_BATCH = 1_000;
const KEY_BATCHES_PER_SWEEP = 10;

export type SweeperConfig = Pick<
  Config,
  'PARTITIONS' | 'SWEEPER_INTERVAL_MS' | 'SWEEPER_PENDING_AFTER_MS'
>;

export interface SweeperDeps {
  config: SweeperConfig;
  sql: Sql;
  queues: TransferQueues;
  logger: Logger;
}

export interface SweepResult {
  stale: number;
  reenqueued: number;
  retried: number;
  /** Transfers whose job could not be checked or repaired this pass. */
  errors: number;
  deletedKeys: number;
}

/**
 * One pass of recovery. Only one sweeper acts at a time across processes: the
 * pass runs in a transaction that holds a PostgreSQL advisory lock, and a
 * sweeper that cannot take it returns undefined at once. The pass:
 * - sets the per-partition group lock again, in case Redis lost it;
 * - makes sure every transfer pending for longer than
 *   SWEEPER_PENDING_AFTER_MS has a live job: none is added, a failed one is
 *   retried, one waiting, delayed or active is left alone. This is safe
 *   because job ids are transfer ids and the apply step is idempotent, and
 *   an add for a partition that already has a job waiting or running is
 *   absorbed by the queue's deduplication; first, a partition's wake-up
 *   that points to a job which can no longer run is freed (see
 *   `TransferQueues.releaseStaleWakeUp`);
 * - deletes expired idempotency records, a bounded number per pass.
 */
export async function sweepOnce(deps: SweeperDeps): Promise<SweepResult | undefined> {
  return withTransaction(deps.sql, async (tx) => {
    if (!(await tryLockSweeper(tx))) return undefined;
    await deps.queues.enforceGroupLock();

    const stale = await findStalePendingTransfers(
      tx,
      deps.config.SWEEPER_PENDING_AFTER_MS,
      STALE_LIMIT,
    );
    const partitions = [...new Set(stale.map((transfer) => queuePartition(deps.config, transfer)))];
    await releaseStaleWakeUps(deps, partitions);
    const repairs = await repairAll(
      stale,
      (transfer) => ensureTransferJob(deps, transfer),
      (transfer, error) =>
        deps.logger.warn({ err: error, transferId: transfer.id }, 'sweeper could not repair job'),
    );

    let deletedKeys = 0;
    for (let batch = 0; batch < KEY_BATCHES_PER_SWEEP; batch++) {
      const deleted = await deleteExpiredIdempotencyKeys(tx, KEY_BATCH);
      deletedKeys += deleted;
      if (deleted < KEY_BATCH) break;
    }

    return {
      stale: stale.length,
      reenqueued: repairs.enqueued,
      retried: repairs.retried,
      errors: repairs.errors,
      deletedKeys,
    };
  });
}

/** Frees the wake-ups of partitions with stale transfers whose job can no longer run. */
async function releaseStaleWakeUps(deps: SweeperDeps, partitions: number[]): Promise<void> {
  for (const partition of partitions) {
    try {
      if (await deps.queues.releaseStaleWakeUp(partition)) {
        deps.logger.warn({ partition }, 'sweeper freed a wake-up whose job could no longer run');
      }
    } catch (error) {
      deps.logger.warn({ err: error, partition }, 'sweeper could not check a wake-up');
    }
  }
}

function ensureTransferJob(deps: SweeperDeps, transfer: StalePendingTransfer) {
  const partition = queuePartition(deps.config, transfer);
  const data = { transferId: transfer.id, tenantId: transfer.tenantId };
  return ensureLiveJob(deps.queues.queue(partition), transfer.id, () =>
    deps.queues.enqueue(partition, data),
  );
}

/**
 * The queue that wakes a transfer's partition. It is the stored partition
 * unless PARTITIONS was lowered since acceptance; then any queue will do,
 * because the job applies the stored partition. Per-source order across such
 * a change is not guaranteed: drain pending transfers before changing it.
 */
function queuePartition(config: SweeperConfig, transfer: StalePendingTransfer): number {
  if (transfer.partition < config.PARTITIONS) return transfer.partition;
  return partitionOf(transfer.sourceAccountId, config.PARTITIONS);
}

export type Sweeper = Periodic;

/** Runs `sweepOnce` every SWEEPER_INTERVAL_MS until stopped; a failed pass is logged. */
export function startSweeper(deps: SweeperDeps): Sweeper {
  // An outage fails every pass: a line for the first, then a count now and then.
  const failures = errorLog(deps.logger, {}, 'sweep failed');
  const pass = async () => {
    const started = performance.now();
    try {
      const result = await sweepOnce(deps);
      const fields = { ...result, durationMs: Math.round(performance.now() - started) };
      if (!result) deps.logger.debug(fields, 'sweep skipped: another sweeper holds the lock');
      else if (result.reenqueued + result.retried + result.errors + result.deletedKeys > 0) {
        deps.logger.info(fields, 'sweep');
      } else deps.logger.debug(fields, 'sweep');
    } catch (error) {
      failures.report(error);
    }
  };
  return runPeriodically(deps.config.SWEEPER_INTERVAL_MS, pass);
}
