import type { Config } from '../config.js';
import { findTransferState } from '../data/ledger.js';
import type { Sql } from '../db/sql.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../logger.js';
import type { TransferJobData } from '../queue/partitions.js';
import type { SettledPublisher } from '../redis/settled.js';
import type { ApplyBatch, SettledTransfer } from '../services/apply-transfers.js';

export interface TransferJobContext {
  config: Pick<Config, 'APPLY_BATCH_SIZE' | 'APPLY_IDLE_MS'>;
  sql: Sql;
  /** On a connection that fails fast: publishing must never hold up the next batch. */
  publishSettled: SettledPublisher;
  logger: Logger;
  apply: ApplyBatch;
  /** True once the process is shutting down: a long backlog is left after the batch in hand. */
  stopping: () => boolean;
  /**
   * True once another process owns the partition (see `PartitionOwners`):
   * the run hands its job on after the batch in hand, or before the first.
   */
  released?: (partition: number) => boolean;
  /** Called after a batch settled something: its events wait to be numbered. */
  onSettled?: () => void;
  /** Wraps each step that waits on PostgreSQL, to notice one that never answers. */
  watch: <T>(step: Promise<T>) => Promise<T>;
}

export type TransferJobOutcome = 'posted' | 'failed' | 'already_final' | 'missing';

export interface TransferJobResult {
  /** What became of the transfer whose acceptance added the job. */
  outcome: TransferJobOutcome;
  /** Transfers this run settled, its own and others of the partition. */
  applied: number;
  batches: number;
}

/**
 * What a run has settled so far, kept up to date batch by batch, for a
 * caller whose run throws after some batches committed: the transfers of
 * those batches stay settled, and its log line still counts them.
 */
export interface RunProgress {
  applied: number;
}

/** Thrown by a run whose partition went to another process: its job goes back to the queue. */
export class HandedOn extends Error {
  constructor(readonly result: { applied: number; batches: number }) {
    super('the partition went to another worker process; its job goes back to the queue');
  }
}

/**
 * How long a run keeps draining a partition that keeps receiving transfers.
 * Past it the run ends at its next short batch, and the job queued behind it
 * goes on, so that a busy partition still logs a line per second or so. A run
 * whose batches come back full goes on until the backlog is drained, however
 * long that takes: a backlog accepted before the run may have no job queued
 * behind it, so ending there would leave it to the sweeper.
 */
const RUN_BUDGET_MS = 1_000;

/** How long an idle run waits between two looks for transfers. */
const IDLE_LOOK_MS = 10;

/**
 * Handles one job, which is only a wake-up call for its partition: PostgreSQL
 * decides what runs and in what order. A partition has at most one job
 * waiting and one running (see `TransferQueues.enqueue`), so a run applies
 * the partition batch by batch, oldest first, until its batches have found
 * nothing for `APPLY_IDLE_MS` (looking every `IDLE_LOOK_MS`), or until a
 * batch comes back short of `APPLY_BATCH_SIZE` once the run is
 * `RUN_BUDGET_MS` old, and deferred nothing (see `applyPendingPartitions`):
 * all that was pending when the job started is then final, and whatever was
 * accepted meanwhile has a job of its own queued behind this one. Under
 * steady load one run thus serves many batches, and the transfers that
 * arrive while it looks, which saves the queue the cost of a job per batch
 * or per transfer. The transfer that added the job is followed to its own
 * partition if its row names another one (after a change of `PARTITIONS`).
 *
 * Errors reach the queue, which retries with backoff; the apply step leaves
 * transfers pending on any error, so a retry is safe. A worker that is
 * shutting down stops after the batch in hand and hands the job back as a
 * retry if the batch was full, so that shutdown never waits for a backlog.
 * A run whose partition went to another process stops likewise, throwing
 * `HandedOn` instead, or before its first batch if it never owned it.
 * `progress` follows what the run has settled, whatever its end.
 */
export async function processTransferJob(
  context: TransferJobContext,
  queuePartition: number,
  data: TransferJobData,
  progress: RunProgress = { applied: 0 },
): Promise<TransferJobResult> {
  const batchSize = context.config.APPLY_BATCH_SIZE;
  const started = Date.now();
  let partition = queuePartition;
  let own: SettledTransfer | undefined;
  let idleSince: number | undefined;
  // The queue's partition, which the process owns or not, even while the run
  // follows its transfer to another one.
  const released = () => context.released?.(queuePartition) ?? false;
  if (!context.stopping() && released()) throw new HandedOn({ applied: 0, batches: 0 });
  for (let batches = 1; ; batches++) {
    const result = await context.watch(context.apply(context.sql, partition, batchSize));
    progress.applied += result.settled.length;
    if (result.settled.length > 0) context.onSettled?.();
    await publish(context, result.settled);
    own ??= result.settled.find((transfer) => transfer.id === data.transferId);

    // A deferred transfer waits for a later batch of this run, which goes on
    // as after a full batch.
    if (result.settled.length >= batchSize || result.deferred > 0) {
      if (context.stopping()) throw shuttingDown();
      if (released()) throw new HandedOn({ applied: progress.applied, batches });
      continue;
    }
    const lookedAt = Date.now();
    const goOn = lookedAt - started < RUN_BUDGET_MS && !context.stopping() && !released();
    if (result.settled.length > 0) {
      idleSince = undefined;
      if (goOn) continue;
    } else if (goOn) {
      idleSince ??= lookedAt;
      if (lookedAt - idleSince < context.config.APPLY_IDLE_MS) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_LOOK_MS));
        continue;
      }
    }
    if (own) return { outcome: own.status, applied: progress.applied, batches };
    const now = await context.watch(findTransferState(context.sql, data.transferId));
    if (!now) return { outcome: 'missing', applied: progress.applied, batches };
    if (now.status !== 'pending') {
      return { outcome: 'already_final', applied: progress.applied, batches };
    }
    if (now.partition === partition) {
      throw new Error(`transfer ${data.transferId} is pending but not in partition ${partition}`);
    }
    if (context.stopping()) throw shuttingDown();
    partition = now.partition;
  }
}

function shuttingDown(): AppError {
  return new AppError('unavailable', 'worker shutting down; the job will run again', {
    retryable: true,
  });
}

async function publish(context: TransferJobContext, settled: SettledTransfer[]): Promise<void> {
  if (settled.length === 0) return;
  const transferIds = settled.map((transfer) => transfer.id);
  try {
    await context.publishSettled(transferIds);
  } catch (error) {
    // Waiters fall back to reading PostgreSQL; the transfers are settled either way.
    context.logger.warn({ err: error, count: transferIds.length }, 'settled signal not published');
  }
}
