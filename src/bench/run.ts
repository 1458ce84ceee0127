import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { dropDatabase, migrate } from '../db/migrate.js';
import { createSql } from '../db/sql.js';
import { createRedis } from '../redis/connection.js';
import { type BenchOptions, settingWords } from './args.js';
import { remeasureSqlBaselines, runBaselines } from './baseline-runs.js';
import { buildForBench } from './build.js';
import { REPO_ROOT } from './children.js';
import { summarizeProfiles } from './cpu-profile.js';
import { benchConfig } from './environment.js';
import { FlushProbe, flushProbeLine, sameDeviceAsPostgres } from './flush-probe.js';
import { runLoadRuns } from './load-runs.js';
import { describeMachine, machineLine } from './machine.js';
import { Monitors } from './monitors.js';
import { fileStamp } from './output.js';
import { resetStatements, statementsStatus, topStatements } from './pg-statements.js';
import { planFor } from './plan.js';
import { nodeFlagsLine, readProcfileNodeFlags } from './procfile.js';
import { progress } from './progress.js';
import { exitCodeOf, publish } from './publish.js';
import { reconcileLedger } from './reconcile.js';
import { deletePrefix } from './redis-prefix.js';
import { Stack } from './stack.js';
import { evaluateTargets, type Results } from './targets.js';
import { Timeline } from './timeline.js';
import { walDirectoryLine } from './wal-segments.js';
import { writebackLine } from './writeback.js';

/** What main needs to clean up after an interrupted run. */
export interface Lifecycle {
  stack: Stack | undefined;
  probe: FlushProbe | undefined;
  prefix: string | undefined;
  redisUrl: string | undefined;
}

interface RunPaths {
  outDir: string;
  logDir: string;
  profileDir: string | undefined;
}

/**
 * The whole benchmark: build, a fresh database, the baselines, the product's
 * processes, the load runs, then the report on the terminal and in the
 * results folder. Resolves to the exit code: 1 when the ledger did not
 * reconcile or transfers stayed pending, because a fast wrong answer is a
 * failure.
 */
export async function runBench(options: BenchOptions, lifecycle: Lifecycle): Promise<number> {
  const plan = planFor(options);
  const config = benchConfig(options);
  lifecycle.prefix = config.REDIS_PREFIX;
  lifecycle.redisUrl = config.REDIS_URL;
  const stamp = fileStamp();
  const paths = await preparePaths(options, stamp);
  await prepare(options, config);

  const sql = createSql(config, { max: 4, application: 'fintech-core-bench' });
  const redis = createRedis(config, { name: 'fintech-core-bench' });
  const timeline = new Timeline();
  const procfileFlags = await readProcfileNodeFlags(join(REPO_ROOT, 'Procfile'));
  const stack = new Stack({
    config,
    runtime: options.runtime,
    procfileFlags,
    nodeFlags: options.nodeFlags,
    ...paths,
  });
  lifecycle.stack = stack;
  const monitors = new Monitors(config, sql, stack, timeline, options.databaseName).start();
  const probe = options.flushProbe
    ? new FlushProbe(join(paths.outDir, stamp, 'flush-probe'), timeline)
    : undefined;
  lifecycle.probe = probe;
  try {
    const machine = await describeMachine(sql, redis);
    progress(machineLine(machine));
    const walLine = walDirectoryLine(machine.wal);
    if (walLine) progress(walLine);
    const kernelLine = writebackLine(machine.writeback);
    if (kernelLine) progress(kernelLine);
    progress(nodeFlagsLine(procfileFlags, options.nodeFlags));
    if (probe) {
      const sameDevice = await sameDeviceAsPostgres(await monitors.dataDevice, probe.file);
      progress(flushProbeLine(probe.file, sameDevice));
    }
    const settings = settingWords(options.settings);
    if (settings.length > 0) progress(`settings instead of defaults: ${settings.join(' ')}`);
    const statements = await statementsStatus(sql);
    progress(statements.note);

    const baselines = await runBaselines(config, sql, plan, timeline);
    const baselineChecks = await reconcileLedger(sql);

    for (let n = 0; n < options.web; n++) await stack.startWeb();
    for (let n = 0; n < options.workers; n++) await stack.startWorker();
    progress(`started ${options.web} web and ${options.workers} worker process(es)`);
    if (statements.loaded) await resetStatements(sql);

    const activity = monitors.activity;
    const context = { config, sql, stack, timeline, plan, activity, keyPrefix: stamp };
    const loadRuns = await runLoadRuns(context, machine.cores, options);
    const top = statements.loaded ? await topStatements(sql) : [];

    await monitors.stop();
    await stack.stop();
    const sqlBaselines = await remeasureSqlBaselines(config, sql, plan, timeline, baselines.sql);
    baselineChecks.push(...(await reconcileLedger(sql)));
    await probe?.stop();
    const profiles = paths.profileDir ? await summarizeProfiles(paths.profileDir) : [];

    const results: Results = {
      sqlBaselines,
      queueBaselines: baselines.queues,
      runs: loadRuns.runs,
      scaling: loadRuns.scaling && {
        before: loadRuns.scaling.before,
        after: loadRuns.scaling.after,
        verdict: loadRuns.scaling.saturation.verdict,
      },
      webPeakRssMb: webPeak(monitors),
    };
    const findings = {
      options,
      plan,
      stamp,
      machine,
      baselines: { ...baselines, sql: sqlBaselines },
      baselineChecks,
      loadRuns,
      results,
      targets: evaluateTargets(results),
      statements: { ...statements, top },
      profiles,
      samplerFailures: monitors.failures(),
      timeline,
    };
    const files = await publish(findings, paths.outDir);
    progress(`wrote ${files.join(', ')}; process logs in ${paths.logDir}`);
    return exitCodeOf(findings);
  } finally {
    await probe?.stop();
    lifecycle.probe = undefined;
    await monitors.stop();
    await stack.stop();
    lifecycle.stack = undefined;
    await deletePrefix(config.REDIS_URL, config.REDIS_PREFIX).catch(() => 0);
    lifecycle.prefix = undefined;
    redis.disconnect();
    await sql.end({ timeout: 5 });
  }
}

async function preparePaths(options: BenchOptions, stamp: string): Promise<RunPaths> {
  const outDir = resolve(REPO_ROOT, options.outDir);
  const logDir = join(outDir, stamp, 'logs');
  const profileDir = options.profile ? join(outDir, stamp, 'profiles') : undefined;
  await mkdir(logDir, { recursive: true });
  if (profileDir) await mkdir(profileDir, { recursive: true });
  return { outDir, logDir, profileDir };
}

/** Builds when asked to run JavaScript, then gives the run a freshly migrated database. */
async function prepare(options: BenchOptions, config: Config): Promise<void> {
  if (options.runtime === 'dist') {
    const build = await buildForBench();
    const note = build.typeErrors ? ' (tsc reported type errors)' : '';
    progress(`built in ${build.seconds.toFixed(1)} s${note}`);
  }
  await dropDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL);
  progress(`database ${options.databaseName} migrated; Redis prefix ${config.REDIS_PREFIX}`);
}

function webPeak(monitors: Monitors): number {
  const peaks = [...monitors.resources.peakMb]
    .filter(([name]) => name.startsWith('web-'))
    .map(([, mb]) => mb);
  return Math.max(0, ...peaks);
}
