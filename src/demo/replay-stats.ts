import type { Transfer } from './api-schemas.js';
import { newRetryCounters, type RetryCounters } from './retry.js';

/** How many times a kind of check ran, and how many times the API answered as it should. */
export interface ProbeCount {
  sent: number;
  confirmed: number;
}

/** Everything the replay saw, for the report and the reconciliation. */
export interface ReplayStats {
  retries: RetryCounters;
  accepted: number;
  /** The first POST answered something other than 202. */
  rejected: number;
  posted: number;
  failed: number;
  /** Still pending when the demo stopped waiting. */
  unsettled: number;
  failureCodes: Map<string, number>;
  /** Same key and body sent again, one after the other. */
  replays: ProbeCount;
  /** Same key and body sent twice at the same moment. */
  races: ProbeCount;
  /** Same key, changed body: must be 422 idempotency_key_reused. */
  reusedKeys: ProbeCount;
  /** Milliseconds from sending the first POST to its 202 arriving, retries included. */
  acceptLatencies: number[];
  /** Milliseconds from created_at to posted_at, as the API reports them. */
  serverLatencies: number[];
  /** Milliseconds from the 202 arriving to the final status arriving. */
  clientLatencies: number[];
  /** The final state of each movement's transfer, by trans_id. */
  transfers: Map<string, Transfer>;
  anomalies: string[];
  startedAt: number;
  lastAcceptedAt: number;
  lastSettledAt: number;
}

export function newReplayStats(): ReplayStats {
  const probe = () => ({ sent: 0, confirmed: 0 });
  return {
    retries: newRetryCounters(),
    accepted: 0,
    rejected: 0,
    posted: 0,
    failed: 0,
    unsettled: 0,
    failureCodes: new Map(),
    replays: probe(),
    races: probe(),
    reusedKeys: probe(),
    acceptLatencies: [],
    serverLatencies: [],
    clientLatencies: [],
    transfers: new Map(),
    anomalies: [],
    startedAt: Date.now(),
    lastAcceptedAt: 0,
    lastSettledAt: 0,
  };
}

/** Records a probe's result; a wrong answer also becomes an anomaly with the exchange. */
export function recordProbe(stats: ReplayStats, probe: ProbeCount, ok: boolean, detail: string) {
  probe.sent++;
  if (ok) probe.confirmed++;
  else stats.anomalies.push(detail);
}

/** Records a transfer that reached a final status. */
export function recordSettled(stats: ReplayStats, transfer: Transfer, acceptedAt: number): void {
  stats.lastSettledAt = Date.now();
  stats.clientLatencies.push(stats.lastSettledAt - acceptedAt);
  if (transfer.status === 'posted') {
    stats.posted++;
    const postedAt = Date.parse(transfer.posted_at ?? '');
    stats.serverLatencies.push(postedAt - Date.parse(transfer.created_at));
    return;
  }
  stats.failed++;
  const code = transfer.failure_code ?? 'none';
  stats.failureCodes.set(code, (stats.failureCodes.get(code) ?? 0) + 1);
}

/** The nearest-rank percentile `p` (0..100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}
