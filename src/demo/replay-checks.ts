import { type Check, examples } from './checks.js';
import type { ReplayPlan } from './plan.js';
import type { ProbeCount, ReplayStats } from './replay-stats.js';

/** The share of movements that must be resubmitted with their original key. */
export const MIN_REPLAY_SHARE = 0.05;

/** What the replay itself proves: every movement posted, and idempotency held. */
export function replayChecks(plan: ReplayPlan, stats: ReplayStats): Check[] {
  return [everyMovementPosted(plan, stats), idempotencyHeld(plan, stats)];
}

function everyMovementPosted(plan: ReplayPlan, stats: ReplayStats): Check {
  const failures = [...stats.failureCodes].map(([code, count]) => `${count} ${code}`);
  return {
    name: 'every movement was accepted and posted',
    pass: stats.posted === plan.movements && stats.accepted === plan.movements,
    detail:
      `${stats.posted}/${plan.movements} posted, ${stats.failed} failed, ` +
      `${stats.rejected} not accepted, ${stats.unsettled} never settled${examples(failures)}`,
  };
}

function idempotencyHeld(plan: ReplayPlan, stats: ReplayStats): Check {
  const enough = stats.replays.sent >= Math.ceil(plan.movements * MIN_REPLAY_SHARE);
  const probes = [stats.replays, stats.races, stats.reusedKeys];
  return {
    name: 'replays named the same transfer; a reused key with a new body got 422',
    pass: enough && stats.reusedKeys.sent > 0 && probes.every(allConfirmed),
    detail:
      `replays ${ratio(stats.replays)}, raced duplicates ${ratio(stats.races)}, ` +
      `422 idempotency_key_reused ${ratio(stats.reusedKeys)}`,
  };
}

function allConfirmed(probe: ProbeCount): boolean {
  return probe.confirmed === probe.sent;
}

function ratio(probe: ProbeCount): string {
  return `${probe.confirmed}/${probe.sent}`;
}
