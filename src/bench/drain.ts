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
    await queues.resume();
    resumed = true;
    const drained = await settleAll(context, loaded);
    return await finishRun(context, spec, loaded, drained, applyFrom);
  } finally {
    if (!resumed) await queues.resume();
  }
}
