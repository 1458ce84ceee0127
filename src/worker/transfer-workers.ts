import { type Job, WaitingError, Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { errorLog } from '../lib/error-log.js';
import { isTransientError } from '../lib/errors.js';
import { stallGuard } from '../lib/stall-guard.js';
import type { Logger } from '../logger.js';
import { type TransferJobData, transferQueueName } from '../queue/partitions.js';
import { CAPPED_BACKOFF, retryDelayMs, TransferQueues } from '../queue/transfer-queues.js';
import { closeRedis, createRedis, cutRedis, redisAnswers } from '../redis/connection.js';
import { createSettledPublisher } from '../redis/settled.js';
import type { ApplyBatch } from '../services/apply-transfers.js';
import { startEventSequencer } from '../services/event-sequencer.js';
import { type Sweeper, startSweeper } from '../services/sweeper.js';
import { createPartitionApplier } from './partition-applier.js';
import { PartitionOwners } from './partition-owners.js';
import { HandedOn, processTransferJob, type TransferJobContext } from './process-transfer-job.js';

export interface TransferWorkerDeps {
  sql: Sql;
  logger: Logger;
  /**
   * The apply step; replaceable so that tests can inject faults in front of
   * it. By default, partitions whose jobs run together are applied together.
   */
  apply?: ApplyBatch;
  /**
   * Whether this set's database answers, asked before it rejoins after
   * standing aside (see `PartitionOwners`); replaceable for tests. By
   * default, a `select 1` on `sql`.
   */
  probe?: () => Promise<unknown>;
  /** Run the recovery sweeper in this set (default true). */
  sweeper?: boolean;
  /**
   * Called when a job's step has waited `DATABASE_STALL_MS` for PostgreSQL;
   * the worker process exits. Without it, a stall goes unnoticed.
   */
  onStall?: (stalledMs: number) => void;
}

export interface TransferWorkers {
  queues: TransferQueues;
  /** The partitions whose jobs this set takes now (see `PartitionOwners`). */
  owns(partition: number): boolean;
  /** Stops taking jobs, waits for those in hand, stops the sweeper, closes Redis. */
  close(): Promise<void>;
}

/**
 * Starts one BullMQ worker per partition queue, each taking one job at a
 * time, plus the recovery sweeper and the event sequencer. The queues'
 * global concurrency of 1 (set here and by every sweep) keeps one job per
 * partition running across all processes. The worker of a queue takes jobs
 * only while this process owns the partition (`PartitionOwners`): the
 * partitions are shared among the processes running. A run whose partition
 * has gone to another process hands its job on after the batch in hand. The
 * caller owns `sql` and ends it after `close()`.
 */
export async function startTransferWorkers(
  config: Config,
  deps: TransferWorkerDeps,
): Promise<TransferWorkers> {
  const redis = createRedis(config, { name: 'transfer-worker', log: deps.logger });
  const queues = new TransferQueues(config, redis, deps.logger);
  try {
    await queues.enforceGroupLock();
  } catch (error) {
    await closeRedis([redis]);
    throw error;
  }

  let closing = false;
  // The queue workers below take no job until `owners.start()` has given
  // them their partitions.
  const owners = new PartitionOwners({
    redis,
    prefix: config.REDIS_PREFIX,
    partitions: config.PARTITIONS,
    leaseMs: config.WORKER_LEASE_MS,
    logger: deps.logger,
    onChange: (owned) => {
      if (closing) return;
      workers.forEach((worker, partition) => {
        // A worker let go of keeps the job in hand: its run hands it on.
        if (owned.has(partition)) {
          if (!worker.isRunning() || worker.isPaused()) void worker.resume();
        } else if (worker.isRunning() && !worker.isPaused()) void worker.pause(true);
      });
    },
    probe: deps.probe ?? (() => deps.sql`select 1`),
  });
  const sequencer = startEventSequencer(deps.sql, deps.logger, config.EVENT_SEQUENCER_INTERVAL_MS);
  const context: TransferJobContext = {
    config,
    sql: deps.sql,
    publishSettled: createSettledPublisher(redis, config.REDIS_PREFIX),
    logger: deps.logger,
    apply: deps.apply ?? createPartitionApplier(deps.sql, config),
    stopping: () => closing,
    released: (partition) => !owners.owns(partition),
    onSettled: () => sequencer.nudge(),
    watch: stallGuard(config.DATABASE_STALL_MS, deps.onStall),
  };
  const lockDuration = config.TRANSFER_JOB_LOCK_MS;
  // One connection per queue worker. In a trial with BullMQ 6.7, a worker that
  // shared its connection with the workers of other queues never won a
  // queue's wake-up against a worker of another process, so one process
  // ended up with every partition and the others sat idle.
  const connections = Array.from({ length: config.PARTITIONS }, (_, partition) =>
    createRedis(config, {
      blocking: true,
      name: `transfer-worker-p${partition}`,
      log: deps.logger,
    }),
  );
  const workers = connections.map((connection, partition) => {
    const worker = new Worker<TransferJobData>(
      transferQueueName(partition),
      (job, token) => runJob(context, owners, partition, job, token),
      {
        connection,
        prefix: config.REDIS_PREFIX,
        autorun: false,
        concurrency: 1,
        lockDuration,
        stalledInterval: lockDuration / 2,
        settings: {
          backoffStrategy: (attemptsMade, type) =>
            type === CAPPED_BACKOFF ? retryDelayMs(attemptsMade, config) : config.JOB_BACKOFF_MS,
        },
      },
    );
    // A worker's own blocking connection, which BullMQ opens, reports here.
    worker.on('error', errorLog(deps.logger, { partition }, 'queue error').report);
    return worker;
  });
  await owners.start();
  const sweeper: Sweeper | undefined =
    deps.sweeper === false
      ? undefined
      : startSweeper({ config, sql: deps.sql, queues, logger: deps.logger });

  return {
    queues,
    owns: (partition) => owners.owns(partition),
    async close() {
      closing = true;
      // With Redis away, or not answering, a worker cannot hand a job back or
      // mark it done, and waiting for that would hold the stop until the
      // timeout: cut Redis and let go of the jobs in hand instead. Their
      // transactions commit or roll back on their own, and what is left
      // pending is applied by the next run. The membership then lapses.
      const away = !(await redisAnswers(redis));
      await owners.stop({ leave: !away });
      if (away) cutRedis([...connections, redis]);
      await Promise.all(workers.map((worker) => worker.close(away)));
      await sweeper?.stop();
      await sequencer.stop();
      await queues.close();
      await closeRedis([...connections, redis]);
    },
  };
}

/**
 * Runs one job, writes its one log line, and tells `owners` how the run
 * went, unless it was handed on or cut short by the stop. `monotonicStartNs`
 * and `monotonicEndNs` come from the system-wide monotonic clock, so the
 * runs of one partition can be ordered across the processes of a host.
 */
async function runJob(
  context: TransferJobContext,
  owners: Pick<PartitionOwners, 'runFailed' | 'runSucceeded'>,
  partition: number,
  job: Job<TransferJobData>,
  token: string | undefined,
): Promise<void> {
  const startNs = process.hrtime.bigint();
  const fields = {
    jobId: job.id,
    transferId: job.data.transferId,
    partition,
    attempt: job.attemptsMade + 1,
  };
  const progress = { applied: 0 };
  try {
    const result = await processTransferJob(context, partition, job.data, progress);
    owners.runSucceeded();
    const endNs = process.hrtime.bigint();
    const level = result.outcome === 'missing' ? 'warn' : 'info';
    context.logger[level]({ ...fields, ...result, ...timing(startNs, endNs) }, 'transfer job');
  } catch (error) {
    const endNs = process.hrtime.bigint();
    if (error instanceof HandedOn && token) {
      // Back to the queue's waiting list, for the process that owns the
      // partition now: not an attempt, so no backoff and no count towards
      // JOB_ATTEMPTS.
      await job.moveToWait(token);
      context.logger.info(
        { ...fields, outcome: 'handed_on', ...error.result, ...timing(startNs, endNs) },
        'transfer job',
      );
      throw new WaitingError();
    }
    if (!context.stopping()) owners.runFailed(error);
    const level = isTransientError(error) ? 'warn' : 'error';
    // The batches committed before the error stay settled: the line counts them.
    context.logger[level](
      {
        ...fields,
        outcome: 'retry',
        applied: progress.applied,
        err: error,
        ...timing(startNs, endNs),
      },
      'transfer job',
    );
    throw error;
  }
}

function timing(startNs: bigint, endNs: bigint) {
  return {
    durationMs: Math.round(Number(endNs - startNs) / 1e4) / 100,
    monotonicStartNs: startNs.toString(),
    monotonicEndNs: endNs.toString(),
  };
}
