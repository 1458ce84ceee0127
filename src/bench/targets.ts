import type { QueueBaselineResult } from './baseline-queue.js';
import type { SqlBaselineResult } from './baseline-sql.js';
import type { LoadRun } from './scenario.js';
import { describeShares } from './worker-shares.js';

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface Results {
  sqlBaselines: SqlBaselineResult[];
  queueBaselines: QueueBaselineResult[];
  runs: LoadRun[];
  /** The same scenario with one more worker process, when the run had a scaling step. */
  scaling: { before: LoadRun; after: LoadRun; verdict: string } | undefined;
  /** Highest peak RSS (VmHWM) of any web process over the whole run, in MB. */
  webPeakRssMb: number;
}

/** The accept latency p99 at half of the maximum load must not pass this, in ms. */
export const ACCEPT_P99_TARGET_MS = 20;

/**
 * A second worker process must raise settled/s by more than this factor: a
 * rise within the noise of one drain is not scaling.
 */
const SCALING_FACTOR = 1.05;

/** The performance targets of the product, each met or missed; printed, never asserted. */
export function evaluateTargets(results: Results): Target[] {
  const raw = (scenario: string) =>
    results.sqlBaselines.find((baseline) => baseline.scenario === scenario)?.perSecond ?? 0;
  const closed = (scenario: string) =>
    results.runs.find((run) => run.spec.scenario === scenario && run.spec.loop === 'closed');
  const targets: Target[] = [];

  const uniform = closed('uniform');
  if (uniform)
    targets.push(ratioTarget('uniform settled/s >= 1.0x raw SQL', uniform, raw('uniform'), 1));
  const hot = closed('hot-source');
  if (hot)
    targets.push(
      ratioTarget('hot source settled/s >= 2.0x raw SQL hot source', hot, raw('hot-source'), 2),
    );

  const open = results.runs.filter((run) => run.spec.loop === 'open');
  if (open.length > 0) {
    const worst = Math.max(...open.map((run) => run.load.latencyMs.p99));
    targets.push({
      name: `accept latency p99 <= ${ACCEPT_P99_TARGET_MS} ms at half of max load`,
      goal: `<= ${ACCEPT_P99_TARGET_MS} ms in every open-loop run`,
      measured: open
        .map((run) => `${run.spec.scenario} ${run.load.latencyMs.p99.toFixed(1)} ms`)
        .join(', '),
      met: worst <= ACCEPT_P99_TARGET_MS,
    });
  }

  targets.push({
    name: 'web peak RSS <= 150 MB',
    goal: '<= 150 MB (VmHWM)',
    measured: `${results.webPeakRssMb.toFixed(0)} MB`,
    met: results.webPeakRssMb > 0 && results.webPeakRssMb <= 150,
  });

  if (results.scaling) {
    const { before, after, verdict } = results.scaling;
    const gain = after.settledPerSecond / Math.max(1, before.settledPerSecond);
    // A rise the added process took no part in is noise, not scaling.
    const idle = (after.workerShares ?? []).filter((share) => share.applied === 0);
    const shares = after.workerShares
      ? `; settled per process: ${describeShares(after.workerShares)}` +
        (idle.length > 0 ? ` (${idle.map((share) => share.name).join(', ')} settled none)` : '')
      : '';
    targets.push({
      name:
        `another worker process raises settled/s (${before.workers} -> ${after.workers}) ` +
        `by more than ${SCALING_FACTOR}x`,
      goal: `> ${SCALING_FACTOR}x, every worker process settling some`,
      measured:
        `${before.settledPerSecond.toFixed(0)} -> ` +
        `${after.settledPerSecond.toFixed(0)}/s (${gain.toFixed(2)}x)${shares}; ` +
        `saturated: ${verdict}`,
      met: gain > SCALING_FACTOR && idle.length === 0,
    });
  }
  return targets;
}

function ratioTarget(name: string, run: LoadRun, baseline: number, factor: number): Target {
  const ratio = baseline > 0 ? run.settledPerSecond / baseline : 0;
  return {
    name,
    goal: `>= ${factor.toFixed(1)}x of ${baseline.toFixed(0)}/s`,
    measured: `${run.settledPerSecond.toFixed(0)}/s (${ratio.toFixed(2)}x)`,
    met: ratio >= factor,
  };
}
