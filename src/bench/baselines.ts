import type { QueueBaselineResult } from './baseline-queue.js';
import type { SqlBaselineResult } from './baseline-sql.js';
import type { ScenarioName } from './pairs.js';
import type { LoadRun } from './scenario.js';

export interface Ratios {
  /**
   * Settled/s over the raw-SQL baseline of the same shape
   * (hot destination: the hot-source one).
   */
  settledVsSql: number;
  /**
   * Accepted/s over the uniform raw-SQL baseline: acceptance is one transaction
   * per transfer too.
   */
  acceptedVsSql: number;
  /** Settled/s over BullMQ alone: 1 queue for a hot source (one partition), else 16 queues. */
  settledVsQueue: number;
}

const SQL_SHAPE: Record<ScenarioName, ScenarioName> = {
  uniform: 'uniform',
  'hot-source': 'hot-source',
  'hot-destination': 'hot-source',
};

/** Each result of a load run as a ratio to the baseline it is held against. */
export function ratiosOf(
  run: LoadRun,
  sql: SqlBaselineResult[],
  queues: QueueBaselineResult[],
): Ratios {
  const rawSettle = sql.find((baseline) => baseline.scenario === SQL_SHAPE[run.spec.scenario]);
  const rawAccept = sql.find((baseline) => baseline.scenario === 'uniform');
  const queueCount = run.spec.scenario === 'hot-source' ? 1 : 16;
  const queue = queues.find((baseline) => baseline.queues === queueCount);
  const settled = run.settledPerSecond;
  return {
    settledVsSql: ratio(settled, rawSettle?.perSecond),
    acceptedVsSql: ratio(run.load.acceptedPerSecond, rawAccept?.perSecond),
    settledVsQueue: ratio(settled, queue?.processPerSecond),
  };
}

function ratio(value: number, baseline: number | undefined): number {
  return baseline && baseline > 0 ? value / baseline : 0;
}
