import { readFile } from 'node:fs/promises';

export interface WorkerShare {
  /** The worker process's name in the run, e.g. `worker-2`. */
  name: string;
  /** Transfers its jobs settled from `since` on, as its log lines report them. */
  applied: number;
}

/**
 * Transfers settled by each worker process from `since` (wall-clock ms) on,
 * summed from the `applied` of its `transfer job` log lines: a line is
 * written when its job ends, so a drain counts the jobs that ended during it.
 */
export async function workerShares(
  workers: readonly { name: string; logPath: string }[],
  since: number,
): Promise<WorkerShare[]> {
  return Promise.all(
    workers.map(async ({ name, logPath }) => ({
      name,
      applied: appliedSince(await readFile(logPath, 'utf8'), since),
    })),
  );
}

/** The sum of `applied` over the `transfer job` lines of a log written at or after `since`. */
export function appliedSince(log: string, since: number): number {
  let applied = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"transfer job"')) continue;
    let record: { msg?: unknown; time?: unknown; applied?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue;
    }
    if (record.msg !== 'transfer job' || typeof record.applied !== 'number') continue;
    const time = typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN;
    if (time >= since) applied += record.applied;
  }
  return applied;
}

/** `worker-1 18,101, worker-2 0`: for the report. */
export function describeShares(shares: readonly WorkerShare[]): string {
  return shares.map((share) => `${share.name} ${share.applied.toLocaleString('en')}`).join(', ');
}
