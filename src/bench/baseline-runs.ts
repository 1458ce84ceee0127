import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { type QueueBaselineResult, runQueueBaseline } from './baseline-queue.js';
import { runSqlBaseline, type SqlBaselineResult } from './baseline-sql.js';
import { elapsed } from './clock.js';
import type { BenchPlan } from './plan.js';
import { progress } from './progress.js';
import type { Timeline } from './timeline.js';

export interface BaselineResults {
  sql: SqlBaselineResult[];
  queues: QueueBaselineResult[];
}

/** The three baselines, each a named phase of the timeline. */
export async function runBaselines(
  config: Config,
  sql: Sql,
  plan: BenchPlan,
  timeline: Timeline,
): Promise<BaselineResults> {
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = elapsed();
    const result = await work();
    timeline.phase(name, start, elapsed());
    return result;
  };

  const sqlResults: SqlBaselineResult[] = [];
  for (const scenario of ['uniform', 'hot-source'] as const) {
    const result = await phase(`raw SQL ${scenario}`, () =>
      runSqlBaseline(config, sql, { scenario, accounts: plan.accounts, ...plan.sqlBaseline }),
    );
    progress(`${result.name}: ${result.perSecond.toFixed(0)} transfers/s`);
    sqlResults.push(result);
  }

  const queueResults: QueueBaselineResult[] = [];
  for (const queueCount of [1, 16]) {
    const result = await phase(`BullMQ ${queueCount}q`, () =>
      runQueueBaseline(config, {
        queueCount,
        jobs:
          queueCount === 1 ? plan.queueBaseline.oneQueueJobs : plan.queueBaseline.manyQueuesJobs,
        addConcurrency: plan.queueBaseline.addConcurrency,
      }),
    );
    progress(
      `${result.name}: ${result.processPerSecond.toFixed(0)} jobs/s processed, ` +
        `${result.addPerSecond.toFixed(0)} jobs/s added`,
    );
    queueResults.push(result);
  }
  return { sql: sqlResults, queues: queueResults };
}
