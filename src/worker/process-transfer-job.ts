import type { Config } from '../config.js';
import { findTransferState } from '../data/ledger.js';
import type { Sql } from '../db/sql.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../logger.js';
import type { TransferJobData } from '../queue/partitions.js';
import type { Redis } from '../redis/connection.js';
import { publishSettled } from '../redis/settled.js';
import type { ApplyBatch } from '../services/apply-transfers.js';

export interface TransferJobContext {
  config: Pick<Config, 'APPLY_BATCH_SIZE' | 'REDIS_PREFIX'>;
  sql: Sql;
  /** A connection that fails fast: publishing must never hold up the next batch. */
  redis: Redis;
  logger: Logger;
  apply: ApplyBatch;
  /**
   * Removes the queued jobs of transfers that are already final, so that
   * the queue does not run them one by one only to find nothing to do.
   */
  discardJobs: (partition: number, transferIds: string[]) => Promise<void>;
  /** True once the process is shutting down: a long backlog is left after the batch in hand. */
  stopping: () => boolean;
  /** Called after a batch settled something: its events wait to be numbered. */
  onSettled?: () => void;
}

export type TransferJobOutcome = 'posted' | 'failed' | 'already_final' | 'missing';

export interface TransferJobResult {
  outcome: TransferJobOutcome;
  /** Transfers this run settled, its own and others of the partition. */
  applied: number;
  batches: number;
}

/**
 * Handles one job, which is only a wake-up call: PostgreSQL decides what runs
 * and in what order. The partition of the job's queue is applied batch by
 * batch, oldest first, until the job's transfer is final; the transfer's own
 * row names its partition, which is followed if the two ever differ (after a
 * change of `PARTITIONS`). Most jobs find their transfer in the first batch
 * and never read it on their own. Errors reach the queue, which retries with
 * backoff; the apply step leaves transfers pending on any error, so a retry is
 * safe. A worker that is shutting down stops after the batch in hand and
 * hands the job back as a retry, so that shutdown never waits for a whole
 * backlog.
 */
export async function processTransferJob(
  context: TransferJobContext,
  queuePartition: number,
  data: TransferJobData,
): Promise<TransferJobResult> {
  let partition = queuePartition;
  let applied = 0;
  for (let batches = 1; ; batches++) {
    const result = await context.apply(context.sql, partition, context.config.APPLY_BATCH_SIZE);
    applied += result.settled.length;
    if (result.settled.length > 0) context.onSettled?.();
    const settledIds = result.settled.map((transfer) => transfer.id);
    await publish(context, settledIds);
    await discard(context, partition, settledIds, data.transferId);

    const own = result.settled.find((transfer) => transfer.id === data.transferId);
    if (own) return { outcome: own.status, applied, batches };
    const now = await findTransferState(context.sql, data.transferId);
    if (!now) return { outcome: 'missing', applied, batches };
    if (now.status !== 'pending') return { outcome: 'already_final', applied, batches };
    if (context.stopping()) {
      throw new AppError('unavailable', 'worker shutting down; the job will run again', {
        retryable: true,
      });
    }
    if (now.partition !== partition) {
      partition = now.partition;
      continue;
    }
    if (result.settled.length === 0) {
      throw new Error(`transfer ${data.transferId} is pending but not in partition ${partition}`);
    }
  }
}

async function publish(context: TransferJobContext, transferIds: string[]): Promise<void> {
  try {
    await publishSettled(context.redis, context.config.REDIS_PREFIX, transferIds);
  } catch (error) {
    // Waiters fall back to reading PostgreSQL; the transfers are settled either way.
    context.logger.warn({ err: error, count: transferIds.length }, 'settled signal not published');
  }
}

async function discard(
  context: TransferJobContext,
  partition: number,
  settledIds: string[],
  ownId: string,
): Promise<void> {
  const others = settledIds.filter((id) => id !== ownId);
  if (others.length === 0) return;
  try {
    await context.discardJobs(partition, others);
  } catch (error) {
    // Harmless: each of those jobs will run, find its transfer final and stop.
    context.logger.warn({ err: error, count: others.length }, 'settled jobs not discarded');
  }
}
