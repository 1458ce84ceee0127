import type { Config } from '../config.js';
import { TransferQueues } from '../queue/transfer-queues.js';
import { createRedis, type Redis } from '../redis/connection.js';

/**
 * Pauses and resumes every partition queue of the run (its own prefix), so
 * that a backlog can be built while the worker processes are up and idle,
 * and then released to them all at once.
 */
export class QueueControl {
  readonly #redis: Redis;
  readonly #queues: TransferQueues;

  constructor(config: Config) {
    this.#redis = createRedis(config, { name: 'fintech-core-bench-control' });
    this.#queues = new TransferQueues(config, this.#redis);
  }

  async pause(): Promise<void> {
    await Promise.all(this.#queues.all().map((queue) => queue.pause()));
  }

  async resume(): Promise<void> {
    await Promise.all(this.#queues.all().map((queue) => queue.resume()));
  }

  async close(): Promise<void> {
    await this.#queues.close();
    this.#redis.disconnect();
  }
}
