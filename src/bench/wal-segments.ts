import { percentiles } from './stats.js';

export interface WalSegmentEffect {
  /** WAL segment files PostgreSQL created while the load ran. */
  created: number;
  /** Whole seconds of the run clock in which at least one was created. */
  seconds: number;
  /** Accept p99 of the answers that arrived in those seconds, and in the others, in ms. */
  p99Within: number;
  p99Elsewhere: number;
}

/**
 * Sets the answers of a run that arrived in a second in which PostgreSQL
 * created a WAL segment file apart from the others. Creating one writes and
 * flushes a whole segment (16 MB by default) while the commits behind it
 * wait; recycling an old file, which PostgreSQL does when `min_wal_size`
 * leaves it some, costs nothing. `createdAt` holds a run-clock time per file
 * created; `doneAt` and `latencyMs` are the run's answers, in the same order.
 */
export function walSegmentEffect(
  createdAt: number[],
  doneAt: number[],
  latencyMs: number[],
): WalSegmentEffect {
  const seconds = new Set(createdAt.map((t) => Math.floor(t)));
  const within: number[] = [];
  const elsewhere: number[] = [];
  doneAt.forEach((t, index) => {
    const latency = latencyMs[index];
    if (latency === undefined) return;
    (seconds.has(Math.floor(t)) ? within : elsewhere).push(latency);
  });
  return {
    created: createdAt.length,
    seconds: seconds.size,
    p99Within: percentiles(within).p99,
    p99Elsewhere: percentiles(elsewhere).p99,
  };
}
