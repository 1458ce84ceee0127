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
  const sqlResults = await runSqlBaselines(config, sql, plan, timeline, 'before');
  const queueResults: QueueBaselineResult[] = [];
  for (const queueCount of [1, 16]) {
    const result = await phase(timeline, `BullMQ ${queueCount}q`, () =>
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

/**
 * The raw-SQL baselines once more, after the load runs and with the product's
 * processes stopped, merged with the first pass: each rate becomes the mean
 * of the two. The same code on the same host has been seen to run at rates
 * up to twice apart from one minute to the next, so a single pass before the
 * load runs could make a ratio look better or worse than it is; both passes
 * are reported.
 */
export async function remeasureSqlBaselines(
  config: Config,
  sql: Sql,
  plan: BenchPlan,
  timeline: Timeline,
  before: SqlBaselineResult[],
): Promise<SqlBaselineResult[]> {
  const after = await runSqlBaselines(config, sql, plan, timeline, 'after');
  return before.map((first) => {
    const second = after.find((result) => result.scenario === first.scenario);
    if (!second) return first;
    const passes = [...first.passes, ...second.passes];
    return {
      ...first,
      seconds: first.seconds + second.seconds,
      transfers: first.transfers + second.transfers,
      perSecond: passes.reduce((sum, rate) => sum + rate, 0) / passes.length,
      passes,
    };
  });
}

async function runSqlBaselines(
  config: Config,
  sql: Sql,
  plan: BenchPlan,
  timeline: Timeline,
  pass: 'before' | 'after',
): Promise<SqlBaselineResult[]> {
  const results: SqlBaselineResult[] = [];
  for (const scenario of ['uniform', 'hot-source'] as const) {
    const result = await phase(timeline, `raw SQL ${scenario} (${pass})`, () =>
      runSqlBaseline(config, sql, { scenario, accounts: plan.accounts, ...plan.sqlBaseline }),
    );
    progress(`${result.name} (${pass} the load runs): ${result.perSecond.toFixed(0)} transfers/s`);
    results.push(result);
  }
  return results;
}

async function phase<T>(timeline: Timeline, name: string, work: () => Promise<T>): Promise<T> {
  const start = elapsed();
  const result = await work();
  timeline.phase(name, start, elapsed());
  return result;
}
