import type { LoadResult } from './load.js';
import type { Timeline } from './timeline.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadSummary {
  requests: number;
  accepted: number;
  /** Answers other than 202, by status code, and requests that got no answer. */
  rejected: Record<string, number>;
  seconds: number;
  acceptedPerSecond: number;
  /** Accept latency of the 202 answers, in milliseconds. */
  latencyMs: Percentiles;
  /** Open loop: how late the generator got round to requests after they were due, in ms. */
  sendLateMs?: Percentiles;
}

/** Nearest-rank percentiles of `values` (which it sorts). */
export function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  if (sorted.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  return {
    p50: rank(0.5) ?? 0,
    p95: rank(0.95) ?? 0,
    p99: rank(0.99) ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

export function summarizeLoad(load: LoadResult): LoadSummary {
  const rejected: Record<string, number> = {};
  const acceptedLatency: number[] = [];
  load.status.forEach((status, index) => {
    if (status === 202) acceptedLatency.push(load.latencyMs[index] ?? 0);
    else rejected[String(status)] = (rejected[String(status)] ?? 0) + 1;
  });
  const unanswered = load.errors + load.timeouts;
  if (unanswered > 0) rejected['no answer'] = unanswered;
  // From the first answer to the last: the time the load was actually
  // flowing, without the start-up of the load generator.
  const seconds = spanOf(load.doneAt);
  return {
    requests: load.status.length,
    accepted: acceptedLatency.length,
    rejected,
    seconds,
    acceptedPerSecond: seconds > 0 ? acceptedLatency.length / seconds : 0,
    latencyMs: percentiles(acceptedLatency),
    ...(load.lateMs.length > 0 ? { sendLateMs: percentiles(load.lateMs) } : {}),
  };
}

/** Seconds from the first to the last of times recorded in order. */
function spanOf(times: number[]): number {
  const first = times[0];
  const last = times[times.length - 1];
  return first === undefined || last === undefined ? 0 : last - first;
}

/**
 * Adds the run's answers per second (`accepted`) and per-second accept
 * latency (`latency-p50`, `latency-p99`, in ms) to the timeline.
 */
export function addLoadSeries(timeline: Timeline, load: LoadResult): void {
  for (const [second, latencies] of acceptedBySecond(load)) {
    const t = second + 0.5;
    timeline.add('accepted', t, latencies.length);
    const { p50, p99 } = percentiles(latencies);
    timeline.add('latency-p50', t, p50);
    timeline.add('latency-p99', t, p99);
  }
}

/** The latencies of a run's 202 answers by the run-clock second they arrived in, in order. */
export function acceptedBySecond(
  load: Pick<LoadResult, 'doneAt' | 'latencyMs' | 'status'>,
): [number, number[]][] {
  const buckets = new Map<number, number[]>();
  load.doneAt.forEach((t, index) => {
    if (load.status[index] !== 202) return;
    const second = Math.floor(t);
    const bucket = buckets.get(second) ?? [];
    bucket.push(load.latencyMs[index] ?? 0);
    buckets.set(second, bucket);
  });
  return [...buckets].sort((a, b) => a[0] - b[0]);
}
