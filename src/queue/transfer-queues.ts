import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Redis } from '../redis/connection.js';
import { type TransferJobData, transferQueueName } from './partitions.js';

/**
 * The producer side of the partition queues. Job id = transfer id, so adding
 * a transfer that already has a job (waiting, active, delayed or failed) is a
 * no-op; completed jobs are removed at once so that the recovery sweeper can
 * add a still-pending transfer again.
 */
export class TransferQueues {
  private readonly queues: Queue<TransferJobData>[];

  constructor(
    private readonly config: Pick<
      Config,
      'PARTITIONS' | 'REDIS_PREFIX' | 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS'
    >,
    connection: Redis,
  ) {
    this.queues = Array.from(
      { length: config.PARTITIONS },
      (_, partition) =>
        new Queue<TransferJobData>(transferQueueName(partition), {
          connection,
          prefix: config.REDIS_PREFIX,
        }),
    );
  }

  queue(partition: number): Queue<TransferJobData> {
    const queue = this.queues[partition];
    if (!queue) throw new Error(`no partition ${partition}`);
    return queue;
  }

  all(): readonly Queue<TransferJobData>[] {
    return this.queues;
  }

  async enqueue(partition: number, data: TransferJobData): Promise<void> {
    await this.queue(partition).add('apply', data, {
      jobId: data.transferId,
      attempts: this.config.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.JOB_BACKOFF_MS },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 86_400 },
    });
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
