import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase } from '../../src/db/migrate.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATABASE = 'fintech_core_bench_smoke';

interface BenchReport {
  runs: {
    spec: { label: string; loop: string };
    workers: number;
    drained: boolean;
    checks: { pass: boolean }[];
    settlement: { posted: number; failed: number };
    workerShares?: { name: string; applied: number }[];
    diskFlush?: { slowest: number; slowSeconds: unknown[] };
    checkpoints?: { begunAt: number[]; fullPageImages: number };
  }[];
  targets: { name: string; met: boolean }[];
  baselines: { sql: { perSecond: number; passes: number[] }[]; queues: unknown[] };
}

/** Runs `npm run bench -- --quick` as a child process, in a results folder of its own. */
async function runQuickBench(outDir: string): Promise<{ code: number | null; output: string }> {
  const args = ['--import', 'tsx', 'src/bench/main.ts', '--quick'];
  args.push('--database', DATABASE, '--out', outDir);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run bench -- --quick', () => {
  let outDir = '';

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
    await dropDatabase(`postgres://postgres@127.0.0.1:5432/${DATABASE}`);
  });

  it('runs every step, reconciles the ledger after each run and writes its report', async () => {
    outDir = await mkdtemp(join(tmpdir(), 'fintech-core-bench-'));
    const { code, output } = await runQuickBench(outDir);
    expect(code, output).toBe(0);

    const files = await readdir(outDir);
    const json = files.find((file) => file.endsWith('.json'));
    expect(files.some((file) => file.endsWith('.svg'))).toBe(true);
    if (!json) throw new Error(`no JSON report in ${files.join(', ')}`);
    const report = JSON.parse(await readFile(join(outDir, json), 'utf8')) as BenchReport;

    expect(report.baselines.sql).toHaveLength(2);
    for (const baseline of report.baselines.sql) {
      // Measured before and after the load runs; the rate held against is their mean.
      expect(baseline.passes).toHaveLength(2);
      const [before = 0, after = 0] = baseline.passes;
      const mean = (before + after) / 2;
      expect(baseline.perSecond).toBeCloseTo(mean, 6);
    }
    expect(report.baselines.queues).toHaveLength(2);
    const loops = report.runs.map((run) => run.spec.loop);
    expect(loops.filter((loop) => loop === 'closed')).toHaveLength(3);
    expect(loops.filter((loop) => loop === 'open')).toHaveLength(3);
    expect(loops.filter((loop) => loop === 'drain')).toHaveLength(2);
    for (const run of report.runs) {
      expect(run.drained, run.spec.label).toBe(true);
      expect(
        run.checks.every((check) => check.pass),
        run.spec.label,
      ).toBe(true);
    }
    for (const drain of report.runs.filter((run) => run.spec.loop === 'drain')) {
      // Each worker process's share of a drain, read from its log, adds up to
      // what PostgreSQL shows settled.
      const shares = drain.workerShares ?? [];
      expect(shares.map((share) => share.name)).toHaveLength(drain.workers);
      const total = shares.reduce((sum, share) => sum + share.applied, 0);
      expect(total, drain.spec.label).toBe(drain.settlement.posted + drain.settlement.failed);
    }
    for (const open of report.runs.filter((run) => run.spec.loop === 'open')) {
      // The disk flush probe ran beside every open loop.
      expect(open.diskFlush?.slowest, open.spec.label).toBeGreaterThan(0);
    }
    for (const run of report.runs.filter((run) => run.spec.loop !== 'drain')) {
      // The checkpoints near each load and the full-page images written under it.
      expect(run.checkpoints?.fullPageImages, run.spec.label).toBeGreaterThanOrEqual(0);
      expect(Array.isArray(run.checkpoints?.begunAt), run.spec.label).toBe(true);
    }
    expect(output).toContain('full-page images written');
    // Its file, beside the processes' logs, is gone once the run ends.
    const runDir = await readdir(join(outDir, json.replace(/\.json$/, '')));
    expect(runDir).toContain('logs');
    expect(runDir).not.toContain('flush-probe');
    expect(report.targets.length).toBeGreaterThanOrEqual(5);
    expect(output).toContain('Ledger: reconciles after every run');
  });
});
