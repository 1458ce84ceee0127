import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { WEBHOOK_QUEUE_NAME } from '../queue/partitions.js';
import { logQueueErrors, type Redis } from '../redis/connection.js';

export interface DeliveryJobData {
  deliveryId: string;
  /** The attempt number this job makes; a job for any other number is stale. */
  attempt: number;
  manual: boolean;
}

/**
 * The id of the job that makes a delivery's attempt: the delivery id for the
 * first, `<delivery id>-<attempt>` for later ones, with `-manual` for one an
 * operator asked for. Adding a job whose id exists is a no-op, so the
 * dispatcher, the worker and the sweeper may all add the same attempt.
 */
export function deliveryJobId(deliveryId: string, attempt: number, manual = false): string {
  const base = attempt === 1 ? deliveryId : `${deliveryId}-${attempt}`;
  return manual ? `${base}-manual` : base;
}

/**
 * The producer side of the delivery queue. Jobs are not retried by BullMQ:
 * each attempt is its own job, added with the delay the retry schedule asks
 * for once the previous attempt is recorded, so that every attempt is
 * stored. A job that throws (PostgreSQL down while recording) fails and is
 * picked up again by the sweeper.
 */
export class DeliveryQueue {
  readonly queue: Queue<DeliveryJobData>;

  constructor(
    config: Pick<Config, 'REDIS_PREFIX'>,
    private readonly connection: Redis,
    log?: Logger,
  ) {
    this.queue = new Queue<DeliveryJobData>(WEBHOOK_QUEUE_NAME, {
      connection,
      prefix: config.REDIS_PREFIX,
    });
    if (log) logQueueErrors(this.queue, log);
  }

  /** Whether the queue's connection is up; see `TransferQueues.connected`. */
  get connected(): boolean {
    return this.connection.status === 'ready';
  }

  async enqueue(data: DeliveryJobData, delayMs = 0): Promise<void> {
    await this.enqueueMany([{ data, delayMs }]);
  }

  async enqueueMany(jobs: { data: DeliveryJobData; delayMs: number }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map(({ data, delayMs }) => ({
        name: 'deliver',
        data,
        opts: {
          jobId: deliveryJobId(data.deliveryId, data.attempt, data.manual),
          delay: Math.max(0, Math.round(delayMs)),
          attempts: 1,
          removeOnComplete: true,
          removeOnFail: { age: 7 * 86_400 },
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
