import { Job, type JobsOptions, Queue, type RedisClient } from 'bullmq';
import type { Config } from '../config.js';
import { Coalescer, settle, submitSettled } from '../lib/coalescer.js';
import type { Logger } from '../logger.js';
import { logQueueErrors, type Redis } from '../redis/connection.js';
import { inOneWrite } from '../redis/one-write.js';
import { type TransferJobData, transferQueueName } from './partitions.js';

/**
 * How long a wake-up waits for others to share its round trip. The web
 * process answers without waiting for its wake-ups (see `runIdempotent`), and
 * a worker lingers `APPLY_LINGER_MS` (20 ms by default) for company before it
 * applies, so the wait delays no answer of the web process and little else;
 * under load it turns a write per request into one per couple of milliseconds.
 */
const WAKE_UP_GATHER_MS = 2;

/** The deduplication id of a partition's wake-up job. */
const WAKE_UP = 'wake-up';

/** The backoff type of transfer jobs; workers compute it with `retryDelayMs`. */
export const CAPPED_BACKOFF = 'capped-exponential';

/**
 * The wait before attempt `attemptsMade + 1` of a transfer job: doubling from
 * JOB_BACKOFF_MS, but never above JOB_BACKOFF_MAX_MS. Uncapped, a partition
 * whose job failed a dozen times during an outage would wait hours after the
 * outage ended, and every transfer accepted meanwhile with it.
 */
export function retryDelayMs(
  attemptsMade: number,
  config: Pick<Config, 'JOB_BACKOFF_MS' | 'JOB_BACKOFF_MAX_MS'>,
): number {
  const doublings = Math.max(0, Math.min(attemptsMade - 1, 30));
  return Math.min(config.JOB_BACKOFF_MS * 2 ** doublings, config.JOB_BACKOFF_MAX_MS);
}

/** Job states in which a wake-up job will still run. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

interface WakeUp {
  partition: number;
  data: TransferJobData;
}

/**
 * The producer side of the partition queues. A job is a wake-up call for its
 * partition, whose id is the id of the transfer that added it. A partition
 * has at most one job waiting and one running: adding a transfer while a job
 * waits changes nothing (that job will apply it), and adding one while a job
 * runs queues a single job behind it (BullMQ's deduplication, keeping the
 * last), so that what was accepted during a run is applied by the next.
 * Completed jobs are removed at once.
 */
export class TransferQueues {
  private readonly queues: Queue<TransferJobData>[];
  private readonly wakeUps = new Coalescer<WakeUp, PromiseSettledResult<void>>(
    (calls) => this.addWakeUps(calls),
    { maxBatch: 256, maxInFlight: 4, lingerMs: WAKE_UP_GATHER_MS },
  );

  constructor(
    private readonly config: Pick<
      Config,
      'PARTITIONS' | 'REDIS_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS'
    >,
    private readonly connection: Redis,
    /** Where the queues' errors go; without it BullMQ prints them itself. */
    log?: Logger,
  ) {
    this.queues = Array.from({ length: config.PARTITIONS }, (_, partition) => {
      const queue = new Queue<TransferJobData>(transferQueueName(partition), {
        connection,
        prefix: config.REDIS_PREFIX,
      });
      if (log) logQueueErrors(queue, log);
      return queue;
    });
  }

  /**
   * Whether the queues' connection is up. BullMQ holds every call made before
   * its connection first comes up until it does, however long Redis stays
   * away; callers that must answer meanwhile check this first.
   */
  get connected(): boolean {
    return this.connection.status === 'ready';
  }

  queue(partition: number): Queue<TransferJobData> {
    const queue = this.queues[partition];
    if (!queue) throw new Error(`no partition ${partition}`);
    return queue;
  }

  all(): readonly Queue<TransferJobData>[] {
    return this.queues;
  }

  /**
   * Adds a transfer's job. Answers false when the add was absorbed: the
   * partition already had a job waiting, which will apply this transfer too.
   */
  async enqueue(partition: number, data: TransferJobData): Promise<boolean> {
    const job = await this.queue(partition).add('apply', data, this.jobOptions(data));
    return job.id === data.transferId;
  }

  /**
   * Wakes the partition of a transfer that has just committed, as `enqueue`
   * does, but together with the other wake-ups asked for within
   * `WAKE_UP_GATHER_MS`: one round trip carries them all, and a partition
   * named several times gets one add. That add is sent after every one of
   * those transfers committed, so the job it wakes (or the one queued behind
   * a running job) reads them all. Rejects when the add of its partition
   * failed.
   */
  wake(partition: number, data: TransferJobData): Promise<void> {
    return submitSettled(this.wakeUps, { partition, data });
  }

  private jobOptions(data: TransferJobData): JobsOptions {
    return {
      jobId: data.transferId,
      deduplication: { id: WAKE_UP, keepLastIfActive: true },
      attempts: this.config.JOB_ATTEMPTS,
      backoff: { type: CAPPED_BACKOFF, delay: this.config.JOB_BACKOFF_MS },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 86_400 },
    };
  }

  /**
   * One add per partition, with the first wake-up of each in the round, all
   * sent in one write (`inOneWrite`). Queues share one connection; waiting
   * for any queue's client waits until BullMQ has defined its scripts on it.
   * Each add answers on its own: a partition's callers get its outcome.
   */
  private async addWakeUps(calls: WakeUp[]): Promise<PromiseSettledResult<void>[]> {
    const client = await this.queue(calls[0]?.partition ?? 0).getBackend().client;
    const adds = new Map<number, Promise<PromiseSettledResult<void>>>();
    const outcomes = inOneWrite(this.connection, calls, ({ partition, data }) => {
      let add = adds.get(partition);
      if (!add) {
        add = settle(this.addJob(client, partition, data));
        adds.set(partition, add);
      }
      return add;
    });
    return Promise.all(outcomes);
  }

  /**
   * Sends the add of a partition's wake-up job. A job BullMQ refuses before
   * sending (its options checked at once) rejects like any failed add,
   * instead of throwing into the round that sends the other partitions' adds.
   */
  private async addJob(client: RedisClient, partition: number, data: TransferJobData) {
    const job = new Job(
      this.queue(partition),
      'apply',
      data,
      this.jobOptions(data),
      data.transferId,
    );
    await job.addJob(client);
  }

  /**
   * Frees a partition's wake-up when the job it points to can no longer run:
   * gone, finished, or in none of the queue's lists (after a partial loss of
   * Redis data). Deduplication would otherwise absorb every later add into
   * that job, and the partition would wait forever. A job that waits, runs
   * or waits for a retry is left alone. Answers whether it freed the key.
   */
  async releaseStaleWakeUp(partition: number): Promise<boolean> {
    const queue = this.queue(partition);
    const jobId = await queue.getDeduplicationJobId(WAKE_UP);
    if (!jobId) return false;
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (LIVE_STATES.has(state)) return false;
    await queue.removeDeduplicationKey(WAKE_UP);
    return true;
  }

  /**
   * Caps every partition queue at one active job across all workers. It lives
   * in Redis, so it is set again on every start and by the sweeper, in case
   * Redis lost its data.
   */
  async enforceGroupLock(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.setGlobalConcurrency(1)));
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()));
  }
}
