/** How much work each step of a run does; the quick plan is a smoke run. */
export interface BenchPlan {
  /** Accounts per scenario tenant (and per raw-SQL baseline). */
  accounts: number;
  sqlBaseline: { seconds: number; connections: number };
  /** Jobs for the one-queue and the sixteen-queue baseline. */
  queueBaseline: { oneQueueJobs: number; manyQueuesJobs: number; addConcurrency: number };
  closedLoop: { seconds: number; connections: number };
  openLoop: { seconds: number; connections: number };
  /** The closed-loop load that builds the backlog of a drain run (queues paused). */
  drain: { seconds: number; connections: number };
  /** Longest wait for the workers to settle what the web accepted. */
  drainTimeoutSeconds: number;
  /** Drain a backlog with --workers worker processes, then another with one more. */
  scaling: boolean;
}

export const FULL_PLAN: BenchPlan = {
  // Spread wide enough that two workers' batches of a uniform scenario share
  // a few accounts, not most of them; hot accounts have scenarios of their own.
  accounts: 100_000,
  sqlBaseline: { seconds: 10, connections: 8 },
  queueBaseline: { oneQueueJobs: 5_000, manyQueuesJobs: 16_000, addConcurrency: 64 },
  closedLoop: { seconds: 15, connections: 32 },
  openLoop: { seconds: 10, connections: 64 },
  drain: { seconds: 10, connections: 32 },
  drainTimeoutSeconds: 90,
  scaling: true,
};

export const QUICK_PLAN: BenchPlan = {
  accounts: 100,
  sqlBaseline: { seconds: 2, connections: 8 },
  queueBaseline: { oneQueueJobs: 500, manyQueuesJobs: 2_000, addConcurrency: 64 },
  closedLoop: { seconds: 2, connections: 16 },
  openLoop: { seconds: 2, connections: 16 },
  drain: { seconds: 2, connections: 16 },
  drainTimeoutSeconds: 30,
  scaling: true,
};

/** The plan of a run: the quick or the full one, with the accounts the options ask for. */
export function planFor(options: { quick: boolean; accounts: number | undefined }): BenchPlan {
  const plan = options.quick ? QUICK_PLAN : FULL_PLAN;
  return { ...plan, accounts: options.accounts ?? plan.accounts };
}
