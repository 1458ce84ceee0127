import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { elapsed } from './clock.js';
import { FLUSH_SERIES, type FlushEffect, flushEffect } from './flush-probe.js';
import { type LoadResult, runLoad } from './load.js';
import { pairPicker, type ScenarioName } from './pairs.js';
import type { CheckpointEffect, PgActivity } from './pg-activity.js';
import type { BenchPlan } from './plan.js';
import { type LedgerCheck, reconcileLedger } from './reconcile.js';
import { type BenchTenant, seedTenant } from './seed.js';
import { SettleWatch } from './settle-watch.js';
import { measureSettlement, type Settlement } from './settlement.js';
import type { Stack } from './stack.js';
import { addLoadSeries, type LoadSummary, summarizeLoad } from './stats.js';
import { ACCEPT_P99_TARGET_MS } from './targets.js';
import { max, mean, type Timeline } from './timeline.js';
import { type WalSegmentEffect, walSegmentEffect } from './wal-segments.js';
import type { WorkerShare } from './worker-shares.js';
import { WRITTEN_SERIES } from './writeback.js';

export interface RunContext {
  config: Config;
  sql: Sql;
  stack: Stack;
  timeline: Timeline;
  plan: BenchPlan;
  activity: PgActivity;
  /** Makes Idempotency-Keys unique across the runs of the benchmark. */
  keyPrefix: string;
}

/**
 * `closed`: each connection sends when its last answer came (the maximum);
 * `open`: requests at a set rate; `drain`: closed-loop with the queues
 * paused, then the workers released on the backlog (the apply speed alone).
 */
export type LoopKind = 'closed' | 'open' | 'drain';

export interface LoadRunSpec {
  scenario: ScenarioName;
  loop: LoopKind;
  seconds: number;
  connections: number;
  /** Requests per second of an open-loop run. */
  rate?: number;
  /** Shown in the report; also names the run's series. */
  label: string;
}

export interface ProcessUse {
  /** Mean and highest CPU in cores (1 = one core) while the run lasted. */
  cpuMean: number;
  cpuMax: number;
  rssMaxMb: number;
  /** Highest V8 heap in use, for the web processes (read from their /metrics). */
  heapUsedMaxMb?: number;
}

export interface LoadRun {
  spec: LoadRunSpec;
  webs: number;
  workers: number;
  load: LoadSummary;
  settlement: Settlement;
  /**
   * First acceptance to last final status; for a drain run, first final
   * status to last (the workers did not run while the load was accepted).
   */
  settledPerSecond: number;
  /** False when the workers did not settle everything within the drain timeout. */
  drained: boolean;
  start: number;
  loadEnd: number;
  end: number;
  queueDepthMax: number;
  /** CPU and memory while the run was busy: the load for a normal run, the apply for a drain. */
  processes: Record<string, ProcessUse>;
  pgActivity: { what: string; share: number }[];
  /** Mean active PostgreSQL sessions of the benchmark's database while busy. */
  pgActiveSessions: number;
  /** The WAL segment files PostgreSQL created under the load, and the answers near them. */
  walSegments?: WalSegmentEffect;
  /** The checkpoints begun near the load, and the full-page images written under it. */
  checkpoints?: CheckpointEffect;
  /**
   * For an open loop, when the disk flush probe ran: its flushes in the
   * seconds whose accept p99 passed the target, and in the others.
   */
  diskFlush?: FlushEffect;
  checks: LedgerCheck[];
  /** For a drain: what each worker process settled during it. */
  workerShares?: WorkerShare[];
}

export interface LoadedRun {
  tenant: BenchTenant;
  watch: SettleWatch;
  result: LoadResult;
  load: LoadSummary;
  start: number;
  loadEnd: number;
}

/**
 * One load run: a fresh tenant with its accounts, the HTTP load, then a wait
 * until PostgreSQL shows every accepted transfer final, then the figures from
 * PostgreSQL's own timestamps and a reconciliation of the whole ledger.
 */
export async function runScenario(context: RunContext, spec: LoadRunSpec): Promise<LoadRun> {
  const loaded = await applyLoad(context, spec);
  const drained = await settleAll(context, loaded);
  return finishRun(context, spec, loaded, drained, loaded.start);
}

/** Seeds the run's tenant, starts watching it settle, and sends the HTTP load. */
export async function applyLoad(context: RunContext, spec: LoadRunSpec): Promise<LoadedRun> {
  const { sql, stack, timeline, plan } = context;
  const tenant = await seedTenant(sql, `bench ${spec.label}`, plan.accounts);
  const start = elapsed();
  const watch = new SettleWatch(sql, tenant.tenantId, timeline, spec.label).start();
  const result = await Promise.race([
    runLoad({
      urls: stack.webs.map((web) => web.url),
      apiKey: tenant.apiKey,
      pick: pairPicker(spec.scenario, tenant.accountIds),
      seconds: spec.seconds,
      connections: spec.connections,
      ...(spec.rate === undefined ? {} : { rate: spec.rate }),
      keyPrefix: `${context.keyPrefix}-${spec.label}`,
    }),
    stack.children.crashed,
  ]);
  const loadEnd = elapsed();
  const load = summarizeLoad(result);
  addLoadSeries(timeline, result);
  return { tenant, watch, result, load, start, loadEnd };
}

/** Waits until every transfer the run's load got accepted is final. */
export async function settleAll(context: RunContext, loaded: LoadedRun): Promise<boolean> {
  const { load, result, watch } = loaded;
  return Promise.race([
    watch.until(
      { accepted: load.accepted, sent: result.sent },
      {
        timeoutSeconds: context.plan.drainTimeoutSeconds,
        graceSeconds: Math.max(1, (2 * load.latencyMs.max) / 1000),
      },
    ),
    context.stack.children.crashed,
  ]);
}

/**
 * Measures a settled run from PostgreSQL and reconciles the ledger. `busyFrom`
 * starts the window of the resource figures.
 */
export async function finishRun(
  context: RunContext,
  spec: LoadRunSpec,
  loaded: LoadedRun,
  drained: boolean,
  busyFrom: number,
): Promise<LoadRun> {
  const { sql, stack, timeline } = context;
  const end = elapsed();
  timeline.phase(spec.label, loaded.start, end);
  const settlement = await measureSettlement(sql, loaded.tenant.tenantId);
  const checks = await reconcileLedger(sql);
  const busyTo = spec.loop === 'drain' ? end : loaded.loadEnd;
  return {
    spec,
    webs: stack.webs.length,
    workers: stack.workers.length,
    load: loaded.load,
    settlement,
    settledPerSecond:
      spec.loop === 'drain' ? settlement.drainPerSecond : settlement.settledPerSecond,
    drained,
    start: loaded.start,
    loadEnd: loaded.loadEnd,
    end,
    queueDepthMax: max(timeline.points('queue-depth', loaded.start, end)),
    processes: processUse(timeline, busyFrom, busyTo),
    pgActivity: context.activity.waits(busyFrom, busyTo).slice(0, 6),
    pgActiveSessions: context.activity.meanActive(busyFrom, busyTo),
    ...(spec.loop === 'drain'
      ? {}
      : {
          walSegments: walSegmentEffect(
            context.activity.walFilesCreated(loaded.start, loaded.loadEnd),
            loaded.result.doneAt,
            loaded.result.latencyMs,
          ),
          checkpoints: context.activity.checkpointEffect(loaded.start, loaded.loadEnd),
        }),
    ...openLoopFlushes(context.timeline, spec, loaded),
    checks,
  };
}

function openLoopFlushes(
  timeline: Timeline,
  spec: LoadRunSpec,
  loaded: LoadedRun,
): { diskFlush?: FlushEffect } {
  if (spec.loop !== 'open') return {};
  const from = loaded.start - 1;
  const to = loaded.loadEnd + 1;
  const diskFlush = flushEffect(
    timeline.points(FLUSH_SERIES, from, to),
    loaded.result,
    ACCEPT_P99_TARGET_MS,
    timeline.points(WRITTEN_SERIES, from, to),
  );
  return diskFlush ? { diskFlush } : {};
}

function processUse(timeline: Timeline, from: number, to: number): Record<string, ProcessUse> {
  const use: Record<string, ProcessUse> = {};
  for (const series of timeline.names('cpu:')) {
    const name = series.slice('cpu:'.length);
    const cpu = timeline.points(series, from, to);
    if (cpu.length === 0) continue;
    use[name] = {
      cpuMean: mean(cpu),
      cpuMax: max(cpu),
      rssMaxMb: max(timeline.points(`rss:${name}`, from, to)),
      heapUsedMaxMb: max(timeline.points(`heap-used:${name}`, from, to)),
    };
  }
  const machine = use.machine;
  if (machine) {
    // What the host's cores did for processes outside the benchmark's view,
    // and what the hypervisor took from them.
    const steal = mean(timeline.points('steal', from, to));
    const ours = Object.entries(use)
      .filter(([name]) => name !== 'machine')
      .reduce((sum, [, process]) => sum + process.cpuMean, 0);
    use.steal = { cpuMean: steal, cpuMax: max(timeline.points('steal', from, to)), rssMaxMb: 0 };
    use.other = { cpuMean: Math.max(0, machine.cpuMean - ours - steal), cpuMax: 0, rssMaxMb: 0 };
  }
  return use;
}
