import { elapsed } from './clock.js';
import type { QueueControl } from './queue-control.js';
import {
  applyLoad,
  finishRun,
  type LoadRun,
  type LoadRunSpec,
  type RunContext,
  settleAll,
} from './scenario.js';
import { workerShares } from './worker-shares.js';

/** How long a drain waits for the workers' last job lines once everything settled. */
const JOB_LINES_WAIT_MS = 3_000;

/**
 * The apply path alone: with the partition queues paused, the closed-loop
 * load builds a backlog of accepted transfers while the worker processes
 * idle; then the queues resume and the workers settle it. Its settled/s runs
 * from the first final status to the last, so the accept path does not
 * count, and the resources are those of the apply.
 */
export async function runDrain(
  context: RunContext,
  queues: QueueControl,
  spec: LoadRunSpec,
): Promise<LoadRun> {
  await queues.pause();
  let resumed = false;
  try {
    const loaded = await applyLoad(context, spec);
    const applyFrom = elapsed();
    const resumedAt = Date.now();
    await queues.resume();
    resumed = true;
    const drained = await settleAll(context, loaded);
    const run = await finishRun(context, spec, loaded, drained, applyFrom);
    const settled = run.settlement.posted + run.settlement.failed;
    return { ...run, workerShares: await sharesOf(context, resumedAt, settled) };
  } finally {
    if (!resumed) await queues.resume();
  }
}

/**
 * What each worker process settled during the drain, from its log. A job's
 * line is written when the job ends, shortly after its last batch: the
 * shares are read again until they add up to the drain's transfers.
 */
async function sharesOf(context: RunContext, since: number, transfers: number) {
  const workers = context.stack.workers.map((child) => ({
    name: child.spec.name,
    logPath: child.logPath,
  }));
  const deadline = Date.now() + JOB_LINES_WAIT_MS;
  for (;;) {
    const shares = await workerShares(workers, since);
    const total = shares.reduce((sum, share) => sum + share.applied, 0);
    if (total >= transfers || Date.now() >= deadline) return shares;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
