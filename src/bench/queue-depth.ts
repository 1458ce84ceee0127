import type { Config } from '../config.js';
import { TransferQueues } from '../queue/transfer-queues.js';
import { createRedis, type Redis } from '../redis/connection.js';
import { elapsed } from './clock.js';
import type { Timeline } from './timeline.js';

/**
 * Reads how many transfer jobs wait (a paused queue keeps its jobs waiting),
 * run or are delayed, summed over every partition queue, into the
 * `queue-depth` series.
 */
export class QueueDepth {
  readonly #redis: Redis;
  readonly #queues: TransferQueues;

  constructor(
    config: Config,
    private readonly timeline: Timeline,
  ) {
    this.#redis = createRedis(config, { name: 'fintech-core-bench-depth' });
    this.#queues = new TransferQueues(config, this.#redis);
  }

  async sample(): Promise<void> {
    const counts = await Promise.all(
      this.#queues
        .all()
        .map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
    );
    let depth = 0;
    for (const count of counts) {
      for (const value of Object.values(count)) depth += value;
    }
    this.timeline.add('queue-depth', elapsed(), depth);
  }

  async close(): Promise<void> {
    await this.#queues.close();
    this.#redis.disconnect();
  }
}
