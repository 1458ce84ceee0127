import { ratiosOf } from './baselines.js';
import type { SlowSecond } from './flush-probe.js';
import { CHECKPOINT_LEAD_SECONDS } from './pg-activity.js';
import { groupUse } from './saturation.js';
import type { LoadRun } from './scenario.js';
import { fixed, formatTable } from './table.js';
import type { Results, Target } from './targets.js';

/** The terminal report: baselines, load runs, resources, targets, ledger checks. */
export function renderReport(results: Results, targets: Target[], header: string[]): string {
  return [
    header.join('\n'),
    '',
    'Baselines (same machine, same PostgreSQL and Redis, this run)',
    baselineTable(results),
    '',
    'HTTP load runs (settled/s: first acceptance to last final status, from PostgreSQL)',
    runTable(results),
    '',
    'CPU in cores (mean while busy: under load, or applying for a drain; 1.00 = one core)',
    resourceTable(results.runs),
    ...otherWork(results.runs),
    '',
    'PostgreSQL sessions of the run while under load (pg_stat_activity samples)',
    activityLines(results.runs),
    '',
    'Targets (printed, not asserted)',
    targets
      .map((target) => `  [${target.met ? 'met   ' : 'MISSED'}] ${target.name}: ${target.measured}`)
      .join('\n'),
    '',
    ledgerLine(results.runs),
  ].join('\n');
}

function baselineTable(results: Results): string {
  const rows = [
    ...results.sqlBaselines.map((baseline) => [
      `${baseline.name} (${baseline.connections} connections)`,
      String(baseline.transfers),
      `${fixed(baseline.perSecond)} transfers/s`,
      baseline.passes.length > 1
        ? `mean of ${baseline.passes.map((rate) => fixed(rate)).join(' and ')}`
        : '',
    ]),
    ...results.queueBaselines.map((baseline) => [
      `${baseline.name}, concurrency 1 each`,
      String(baseline.jobs),
      `${fixed(baseline.processPerSecond)} jobs/s processed`,
      `${fixed(baseline.addPerSecond)} jobs/s added`,
    ]),
  ];
  return formatTable(['baseline', 'count', 'rate', 'add rate, or passes before/after'], rows);
}

function runTable(results: Results): string {
  const rows = results.runs.map((run) => {
    const ratios = ratiosOf(run, results.sqlBaselines, results.queueBaselines);
    const latency = run.load.latencyMs;
    const posted = run.settlement.acceptToPostedMs;
    const rejected = Object.entries(run.load.rejected)
      .map(([status, count]) => `${status}x${count}`)
      .join(' ');
    return [
      run.spec.label,
      `${run.webs}/${run.workers}`,
      fixed(run.load.acceptedPerSecond),
      fixed(run.settledPerSecond),
      fixed(ratios.settledVsSql, 2),
      fixed(ratios.settledVsQueue, 2),
      `${fixed(latency.p50, 1)}/${fixed(latency.p95, 1)}/${fixed(latency.p99, 1)}`,
      `${fixed(posted.p50)}/${fixed(posted.p99)}`,
      fixed(run.queueDepthMax),
      String(run.settlement.transfers),
      (rejected || '-') + (run.drained ? '' : ' NOT DRAINED'),
    ];
  });
  return formatTable(
    [
      'run',
      'web/wrk',
      'accepted/s',
      'settled/s',
      'xSQL',
      'xqueue',
      'accept ms p50/p95/p99',
      'posted ms p50/p99',
      'queue max',
      'transfers',
      'non-202',
    ],
    rows,
  );
}

function resourceTable(runs: LoadRun[]): string {
  const groups = runs[0] ? groupUse(runs[0]).map((use) => use.group) : [];
  const rows = runs.map((run) => [
    run.spec.label,
    ...groupUse(run).map((use) => fixed(use.cores, 2)),
    fixed(run.processes.steal?.cpuMean ?? Number.NaN, 2),
    fixed(run.processes.machine?.cpuMean ?? Number.NaN, 2),
    ...webRss(run),
  ]);
  const headers = groups.map((group) =>
    group === 'other processes on the host' ? 'other' : group,
  );
  return formatTable(['run', ...headers, 'steal', 'machine', 'web RSS/heap MB'], rows);
}

/**
 * Mean CPU, in cores, that the host spent outside every process the benchmark
 * watches before a run is named as disturbed. PostgreSQL's background
 * processes (the WAL writer, the checkpointer) count there too; in runs with
 * nothing else on the host they stayed under 0.07 of a core.
 */
export const OTHER_WORK_LIMIT = 0.1;

/**
 * The runs during which something else used the host's cores (a build, tests,
 * another program), named so that their figures are not taken for the
 * product's alone: one line, or none when there were none.
 */
export function otherWork(runs: LoadRun[]): string[] {
  const disturbed = runs
    .map((run) => ({ label: run.spec.label, cores: run.processes.other?.cpuMean ?? 0 }))
    .filter((run) => run.cores >= OTHER_WORK_LIMIT);
  if (disturbed.length === 0) return [];
  return [
    'Other work on the host used CPU during ' +
      disturbed.map((run) => `${run.label} (${fixed(run.cores, 2)} cores)`).join(', ') +
      ": the figures of those runs are not the product's alone",
  ];
}

function webRss(run: LoadRun): string[] {
  const webs = Object.entries(run.processes).filter(([name]) => name.startsWith('web-'));
  if (webs.length === 0) return ['-'];
  const rss = Math.max(...webs.map(([, use]) => use.rssMaxMb));
  const heap = Math.max(...webs.map(([, use]) => use.heapUsedMaxMb ?? 0));
  return [`${fixed(rss)}/${heap > 0 ? fixed(heap) : '-'}`];
}

function activityLines(runs: LoadRun[]): string {
  return runs
    .map((run) => {
      const parts = run.pgActivity.map((wait) => `${wait.what} ${fixed(wait.share * 100)}%`);
      const active = `${run.pgActiveSessions.toFixed(2)} active on average`;
      const waits = parts.join(', ') || 'no active session seen';
      const notes = [
        checkpointLine(run.checkpoints),
        walLine(run.walSegments),
        flushLine(run.diskFlush, run.start),
      ].join('');
      return `  ${run.spec.label}: ${active}; ${waits}${notes}`;
    })
    .join('\n');
}

/** The checkpoints begun near a run's load, and the full-page images written under it. */
export function checkpointLine(effect: LoadRun['checkpoints']): string {
  if (!effect) return '';
  const images = `${effect.fullPageImages.toLocaleString('en-US')} full-page images written`;
  if (effect.begunAt.length === 0) {
    return `\n    no checkpoint began from ${CHECKPOINT_LEAD_SECONDS} s before the load; ${images}`;
  }
  const at = effect.begunAt.map((t) => `${signed(t)} s`).join(', ');
  return `\n    checkpoint begun at ${at} from the load's start; ${images}`;
}

/** Tenths of a second with a sign, `-0.0` shown as `+0.0`. */
function signed(seconds: number): string {
  const tenths = Math.round(seconds * 10) / 10 || 0;
  return `${tenths < 0 ? '' : '+'}${tenths.toFixed(1)}`;
}

/** The WAL segment files created under a run's load, and the accept p99 near them. */
function walLine(wal: LoadRun['walSegments']): string {
  if (!wal || wal.created === 0) return '';
  return (
    `\n    ${wal.created} WAL segment file(s) created, in ${wal.seconds} s; accept p99 ` +
    `${fixed(wal.p99Within)} ms in those seconds, ${fixed(wal.p99Elsewhere)} ms in the others`
  );
}

/** What the disk flush probe saw in an open loop's seconds over the p99 target, and elsewhere. */
function flushLine(flush: LoadRun['diskFlush'], loadStart: number): string {
  if (!flush) return '';
  const slow = flush.slowSeconds;
  if (slow.length === 0) {
    const slowest = fixed(flush.slowest, 1);
    return `\n    disk flush probe: slowest ${slowest} ms; no second over the p99 target`;
  }
  const seconds = slow.map((second) => slowSecondText(second, loadStart)).join('; ');
  const written =
    flush.elsewhereWrittenMb === undefined
      ? ''
      : `, at most ${writtenText(flush.elsewhereWrittenMb)}`;
  return (
    `\n    disk flush probe: ${slow.length} second(s) with an accept p99 over the target ` +
    `(${seconds}); slowest flush elsewhere in the run ${fixed(flush.elsewhereMs, 1)} ms` +
    written
  );
}

/**
 * One slow second: when it began, from the load's start (`loadStart`, on the
 * run clock), its p99, the probe's flush near it, the most the disk wrote in
 * a quarter second then, and how late the generator fell.
 */
export function slowSecondText(second: SlowSecond, loadStart: number): string {
  const flush =
    second.flushMs === undefined
      ? ', no flush timed near it'
      : ` with a flush of ${fixed(second.flushMs, 1)} ms`;
  const written = second.writtenMb === undefined ? '' : `, ${writtenText(second.writtenMb)}`;
  const generator =
    second.generatorLateMs === undefined
      ? ''
      : `, the generator ${fixed(second.generatorLateMs, 1)} ms late`;
  const p99 = `${fixed(second.p99, 1)} ms`;
  return `${signed(second.second - loadStart)} s: ${p99}${flush}${written}${generator}`;
}

/** What the disk wrote in one of the writeback sampler's quarter seconds. */
function writtenText(mb: number): string {
  return `${Math.round(mb)} MB written in a quarter second`;
}

function ledgerLine(runs: LoadRun[]): string {
  const failed = runs.flatMap((run) =>
    run.checks
      .filter((check) => !check.pass)
      .map((check) => `${run.spec.label}: ${check.name} (${check.offenders} rows)`),
  );
  const undrained = runs.filter((run) => !run.drained).map((run) => run.spec.label);
  if (failed.length === 0 && undrained.length === 0) {
    const count = runs.reduce((sum, run) => sum + run.checks.length, 0);
    return `Ledger: reconciles after every run (${count} checks passed)`;
  }
  return [
    'Ledger: FAILED',
    ...failed.map((line) => `  ${line}`),
    ...undrained.map((label) => `  ${label}: not every accepted transfer settled in time`),
  ].join('\n');
}
