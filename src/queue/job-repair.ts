import type { Queue } from 'bullmq';

export type JobRepair = 'enqueued' | 'retried' | 'present' | 'error';

export interface RepairCounts {
  enqueued: number;
  retried: number;
  errors: number;
}

/** Repairs run this many at a time: a pass after a Redis wipe may have thousands. */
const PARALLELISM = 50;

/**
 * Makes sure the job `jobId` will run: adds it when it is missing, retries it
 * when it failed, and replaces it when it completed or was half lost (a
 * finished job blocks a new one with the same id). A job that is waiting,
 * delayed or active is left alone. `enqueue` answers whether it added a job;
 * an add that another live job absorbed counts as `present`.
 */
export async function ensureLiveJob(
  queue: Queue,
  jobId: string,
  enqueue: () => Promise<boolean>,
): Promise<Exclude<JobRepair, 'error'>> {
  const job = await queue.getJob(jobId);
  if (!job) return (await enqueue()) ? 'enqueued' : 'present';
  const state = await job.getState();
  if (state === 'failed') {
    await job.retry('failed');
    return 'retried';
  }
  if (state === 'completed' || state === 'unknown') {
    await job.remove();
    return (await enqueue()) ? 'enqueued' : 'present';
  }
  return 'present';
}

/**
 * Runs `repair` over every item, a bounded number at a time. A repair that
 * throws is reported to `onError` and counted, and left to the next pass.
 */
export async function repairAll<T>(
  items: readonly T[],
  repair: (item: T) => Promise<Exclude<JobRepair, 'error'>>,
  onError: (item: T, error: unknown) => void,
): Promise<RepairCounts> {
  const results: JobRepair[] = [];
  for (let start = 0; start < items.length; start += PARALLELISM) {
    const slice = items.slice(start, start + PARALLELISM);
    const settled = await Promise.all(
      slice.map((item) =>
        repair(item).catch((error: unknown): JobRepair => {
          onError(item, error);
          return 'error';
        }),
      ),
    );
    results.push(...settled);
  }
  const count = (kind: JobRepair) => results.filter((result) => result === kind).length;
  return { enqueued: count('enqueued'), retried: count('retried'), errors: count('error') };
}
