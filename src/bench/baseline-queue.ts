import { Queue, Worker } from 'bullmq';
import type { Config } from '../config.js';
import { createRedis } from '../redis/connection.js';

export interface QueueBaselineResult {
  name: string;
  queues: number;
  jobs: number;
  addPerSecond: number;
  processPerSecond: number;
}

/**
 * What BullMQ alone does on this machine, in this process: `jobs` empty jobs
 * are added one call at a time (as the web process adds them), spread over
 * `queueCount` queues that each allow one active job across all workers (as
 * the partition queues do), with the options the product gives a transfer's
 * job, then one worker per queue with concurrency 1
 * processes them with a no-op. Connections are made as the product makes
 * them; completed jobs are removed, as the product removes them.
 */
export async function runQueueBaseline(
  config: Config,
  options: { queueCount: number; jobs: number; addConcurrency: number },
): Promise<QueueBaselineResult> {
  const producer = createRedis(config, { name: 'fintech-core-bench-producer' });
  const consumer = createRedis(config, { blocking: true, name: 'fintech-core-bench-consumer' });
  const names = Array.from(
    { length: options.queueCount },
    (_, index) => `bench-baseline-${options.queueCount}q-${index}`,
  );
  const queues = names.map(
    (name) => new Queue(name, { connection: producer, prefix: config.REDIS_PREFIX }),
  );
  const workers: Worker[] = [];
  try {
    await Promise.all(queues.map((queue) => queue.setGlobalConcurrency(1)));
    const addSeconds = await addJobs(queues, options.jobs, options.addConcurrency);

    let completed = 0;
    let finish: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const started = performance.now();
    for (const name of names) {
      const worker = new Worker(name, async () => {}, {
        connection: consumer,
        prefix: config.REDIS_PREFIX,
        concurrency: 1,
      });
      worker.on('completed', () => {
        completed++;
        if (completed === options.jobs) finish();
      });
      workers.push(worker);
    }
    await allDone;
    const processSeconds = (performance.now() - started) / 1000;

    return {
      name: `BullMQ, ${options.queueCount} queue${options.queueCount === 1 ? '' : 's'}`,
      queues: options.queueCount,
      jobs: options.jobs,
      addPerSecond: options.jobs / addSeconds,
      processPerSecond: options.jobs / processSeconds,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(queues.map((queue) => queue.close()));
    await Promise.all([producer.quit(), consumer.quit()]);
  }
}

async function addJobs(queues: Queue[], jobs: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lanes = Array.from({ length: concurrency }, async () => {
    for (let index = next++; index < jobs; index = next++) {
      const queue = queues[index % queues.length];
      if (!queue) throw new Error('no queue');
      await queue.add(
        'noop',
        {},
        {
          jobId: `job-${index}`,
          attempts: 25,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * 86_400 },
        },
      );
    }
  });
  await Promise.all(lanes);
  return (performance.now() - started) / 1000;
}
