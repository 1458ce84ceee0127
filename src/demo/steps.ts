import type { Config } from '../config.js';
import type { ApiClient } from './api-client.js';
import type { Check } from './checks.js';
import type { AccountIds } from './open-accounts.js';
import type { ReplayPlan } from './plan.js';
import type { ProcessSpec } from './processes.js';
import type { ReplayStats } from './replay-stats.js';
import { webhookStep } from './webhook-step.js';

/** What a step may use: the running demo's configuration, API client and accounts. */
export interface DemoRun {
  config: Config;
  client: ApiClient;
  tenantId: string;
  plan: ReplayPlan;
  ids: AccountIds;
  processes: readonly ProcessSpec[];
  logDir: string;
}

/**
 * A part of the demo beyond the replay itself, such as checking that the
 * webhook receiver got one signed event per settled transfer. Its hooks run
 * in this order, each only if the step defines it:
 *
 * - `prepare`: the accounts exist, the replay has not started (start a
 *   receiver on 127.0.0.1, register an endpoint);
 * - `check`: everything has settled; its checks join the reconciliation and
 *   a failing one fails the demo;
 * - `close`: always, last, even when the demo failed.
 */
export interface DemoStep {
  name: string;
  /** Run the step only when a process of this name was started, e.g. `webhooks`. */
  needsProcess?: string;
  prepare?(run: DemoRun): Promise<void>;
  check?(run: DemoRun, stats: ReplayStats): Promise<Check[]>;
  close?(): Promise<void>;
}

/** The extra steps, in the order they run. The replay and reconciliation need none. */
export function demoSteps(): DemoStep[] {
  return [webhookStep()];
}

/** The steps that apply to this run: those whose process, if any, was started. */
export function activeSteps(processes: readonly ProcessSpec[]): DemoStep[] {
  const started = new Set(processes.map((spec) => spec.name));
  return demoSteps().filter((step) => !step.needsProcess || started.has(step.needsProcess));
}
