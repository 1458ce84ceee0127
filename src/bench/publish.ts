import { join } from 'node:path';
import { type BenchOptions, settingWords } from './args.js';
import type { BaselineResults } from './baseline-runs.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { LoadRunResults } from './load-runs.js';
import { type MachineInfo, machineLine } from './machine.js';
import { timelineJson, writeJson, writeText } from './output.js';
import type { StatementStat, StatementsStatus } from './pg-statements.js';
import type { BenchPlan } from './plan.js';
import { loadAverage } from './proc.js';
import type { LedgerCheck } from './reconcile.js';
import { renderProfiles, renderStatements } from './report-profile.js';
import { renderReport } from './report-table.js';
import { renderSvg } from './svg.js';
import type { Results, Target } from './targets.js';
import type { Timeline } from './timeline.js';

export interface Findings {
  options: BenchOptions;
  plan: BenchPlan;
  stamp: string;
  machine: MachineInfo;
  baselines: BaselineResults;
  baselineChecks: LedgerCheck[];
  loadRuns: LoadRunResults;
  results: Results;
  targets: Target[];
  statements: StatementsStatus & { top: StatementStat[] };
  profiles: ProfileSummary[];
  samplerFailures: number;
  timeline: Timeline;
}

/**
 * Prints the report on stdout and writes bench-results/<stamp>.json (every
 * figure and series) and bench-results/<stamp>.svg (the plot).
 */
export async function publish(findings: Findings, outDir: string): Promise<string[]> {
  const { options, stamp, machine, results, targets, timeline } = findings;
  const title =
    `fintech-core bench ${stamp}: ${options.web} web, ${options.workers} worker` +
    `${options.quick ? ', quick' : ''}, ${options.runtime}` +
    (options.accounts === undefined ? '' : `, ${options.accounts} accounts`) +
    (options.nodeFlags.length > 0 ? ` ${options.nodeFlags.join(' ')}` : '') +
    settingWords(options.settings)
      .map((word) => ` ${word}`)
      .join('');
  const sections = [renderReport(results, targets, [title, machineLine(machine)])];
  sections.push('', `PostgreSQL statements: ${findings.statements.note}`);
  if (findings.statements.top.length > 0) sections.push(renderStatements(findings.statements.top));
  if (findings.profiles.length > 0) {
    sections.push(
      '',
      'CPU profiles (node --cpu-prof, self time)',
      renderProfiles(findings.profiles),
    );
  }
  process.stdout.write(`${sections.join('\n')}\n`);

  const jsonPath = join(outDir, `${stamp}.json`);
  const svgPath = join(outDir, `${stamp}.svg`);
  await writeJson(jsonPath, {
    title,
    options,
    plan: findings.plan,
    machine,
    loadAtEnd: loadAverage(),
    baselines: findings.baselines,
    baselineChecks: findings.baselineChecks,
    warmUp: findings.loadRuns.warmUp,
    ...results,
    saturation: findings.loadRuns.scaling?.saturation,
    targets,
    pgStatements: findings.statements,
    profiles: findings.profiles,
    samplerFailures: findings.samplerFailures,
    timeline: timelineJson(timeline),
  });
  await writeText(svgPath, renderSvg(timeline, title));
  return [jsonPath, svgPath];
}

/** 1 when the ledger did not reconcile or accepted transfers stayed pending, else 0. */
export function exitCodeOf(findings: Findings): number {
  const runs = [findings.loadRuns.warmUp, ...findings.results.runs];
  const checks = [...findings.baselineChecks, ...runs.flatMap((run) => run.checks)];
  const wrong = checks.some((check) => !check.pass);
  const stuck = runs.some((run) => !run.drained);
  return wrong || stuck ? 1 : 0;
}
