import { runDrain } from './drain.js';
import type { ScenarioName } from './pairs.js';
import { progress } from './progress.js';
import { QueueControl } from './queue-control.js';
import { findSaturation, type Saturation } from './saturation.js';
import { type LoadRun, type LoadRunSpec, type RunContext, runScenario } from './scenario.js';

export interface LoadRunResults {
  warmUp: LoadRun;
  runs: LoadRun[];
  scaling: { before: LoadRun; after: LoadRun; saturation: Saturation } | undefined;
}

/**
 * A short warm-up (so that the first scenario does not pay for cold code),
 * then per scenario a closed-loop run for the maximum and an open-loop run at
 * half the accepted rate it reached; last, the scaling step: a uniform
 * backlog drained by the running worker processes, then another by one more.
 */
export async function runLoadRuns(
  context: RunContext,
  cores: number,
  selection: { scenarios: ScenarioName[]; drains: boolean },
): Promise<LoadRunResults> {
  const { plan } = context;
  const warmUp = await runScenario(context, {
    scenario: 'uniform',
    loop: 'closed',
    seconds: Math.min(3, plan.closedLoop.seconds / 2),
    connections: plan.closedLoop.connections,
    label: 'warm-up',
  });
  report(warmUp);

  const runs: LoadRun[] = [];
  for (const scenario of selection.scenarios) {
    const closed = await runScenario(context, {
      scenario,
      loop: 'closed',
      ...plan.closedLoop,
      label: `${scenario} closed`,
    });
    report(closed);
    runs.push(closed);
    const rate = Math.max(1, Math.round(closed.load.acceptedPerSecond / 2));
    const open = await runScenario(context, {
      scenario,
      loop: 'open',
      ...plan.openLoop,
      rate,
      label: `${scenario} open ${rate}/s`,
    });
    report(open);
    runs.push(open);
  }

  if (!plan.scaling || !selection.drains) return { warmUp, runs, scaling: undefined };
  const drain = (count: number): LoadRunSpec => ({
    scenario: 'uniform',
    loop: 'drain',
    ...plan.drain,
    label: `uniform drain, ${count} worker${count === 1 ? '' : 's'}`,
  });
  const queues = new QueueControl(context.config);
  try {
    const before = await runDrain(context, queues, drain(context.stack.workers.length));
    report(before);
    await context.stack.startWorker();
    const after = await runDrain(context, queues, drain(context.stack.workers.length));
    report(after);
    runs.push(before, after);
    return { warmUp, runs, scaling: { before, after, saturation: findSaturation(after, cores) } };
  } finally {
    await queues.close();
  }
}

function report(run: LoadRun): void {
  const latency = run.load.latencyMs;
  progress(
    `${run.spec.label}: accepted ${run.load.acceptedPerSecond.toFixed(0)}/s, ` +
      `settled ${run.settledPerSecond.toFixed(0)}/s, accept p99 ` +
      `${latency.p99.toFixed(1)} ms, ${run.settlement.transfers} transfers` +
      (run.load.sendLateMs
        ? `, generator behind schedule p99 ${run.load.sendLateMs.p99.toFixed(1)} ms`
        : '') +
      (run.drained ? '' : ', NOT DRAINED') +
      (run.checks.every((check) => check.pass) ? '' : ', LEDGER CHECK FAILED'),
  );
}
