import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../config.js';
import { dropDatabase, migrate } from '../db/migrate.js';
import { createSql } from '../db/sql.js';
import { freePort } from '../lib/free-port.js';
import { createTenant } from '../services/tenants.js';
import { ApiClient } from './api-client.js';
import { type DemoArgs, parseDemoArgs, USAGE } from './args.js';
import type { Check } from './checks.js';
import { loadPlan } from './input.js';
import { readLedger } from './ledger-readback.js';
import { Shutdown, stopOnSignals } from './lifecycle.js';
import { waitForReady } from './network.js';
import { openAccounts } from './open-accounts.js';
import type { ReplayPlan } from './plan.js';
import { demoProcesses, Supervisor } from './processes.js';
import { reconcileLedger } from './reconcile.js';
import { reconcileDatabase } from './reconcile-sql.js';
import { replay } from './replay.js';
import { replayChecks } from './replay-checks.js';
import { reportAnomalies, reportChecks, reportInput, reportReplay, say } from './report.js';
import { newRetryCounters } from './retry.js';
import { configEnv, demoConfig } from './settings.js';
import { activeSteps, type DemoRun } from './steps.js';

/** Requests in flight while opening accounts and reading the ledger back. */
const BULK_CONCURRENCY = 32;

async function main(argv: string[]): Promise<number> {
  const args = parseDemoArgs(argv);
  if (args.help) {
    say(USAGE);
    return 0;
  }
  const plan = await loadPlan(args);
  reportInput(plan, args.transactionsPath);

  const config = demoConfig(loadConfig(), await freePort());
  await dropDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL);
  const supervisor = new Supervisor(await mkdtemp(join(tmpdir(), 'fcdemo-')), configEnv(config));
  const shutdown = new Shutdown(supervisor, config);
  stopOnSignals(shutdown);
  try {
    return await Promise.race([run(args, plan, shutdown), supervisor.crashed]);
  } finally {
    await shutdown.run();
  }
}

async function run(args: DemoArgs, plan: ReplayPlan, shutdown: Shutdown): Promise<number> {
  const { config, supervisor } = shutdown;
  const processes = demoProcesses(args.workers);
  for (const spec of processes) supervisor.start(spec);
  const baseUrl = `http://${config.HOST}:${config.PORT}`;
  say(`Processes: ${processes.map((spec) => spec.name).join(', ')}; logs in ${supervisor.logDir}`);
  const database = new URL(config.DATABASE_URL).pathname.slice(1);
  say(`  database ${database}, Redis prefix ${config.REDIS_PREFIX}`);
  say(`  web ready at ${baseUrl} after ${await waitForReady(baseUrl, supervisor.crashed)} ms`);

  const tenant = await createDemoTenant(config);
  const client = new ApiClient(baseUrl, tenant.secret, args.concurrency * 2 + BULK_CONCURRENCY);
  shutdown.closeFirst(() => client.close());
  try {
    const ids = await timed(`Opened ${plan.customers.length + plan.books.length} accounts`, () =>
      openAccounts(client, plan, newRetryCounters(), BULK_CONCURRENCY),
    );
    const { tenantId } = tenant;
    const { logDir } = supervisor;
    return await replayAndReconcile(args, {
      config,
      client,
      tenantId,
      plan,
      ids,
      processes,
      logDir,
    });
  } finally {
    client.close();
  }
}

async function replayAndReconcile(args: DemoArgs, demoRun: DemoRun): Promise<number> {
  const { client, plan } = demoRun;
  const steps = activeSteps(demoRun.processes);
  try {
    for (const step of steps) await step.prepare?.(demoRun);
    const stats = await replay(client, plan, demoRun.ids, args.concurrency);
    reportReplay(stats, args.concurrency, client.peakInFlight);

    const ledger = await timed('Read the ledger back through the API', () =>
      readLedger(client, stats.retries, BULK_CONCURRENCY),
    );
    const checks: Check[] = [
      ...replayChecks(plan, stats),
      ...reconcileLedger(plan, ledger, stats.transfers),
      ...(await reconcileDatabase(demoRun.config, demoRun.tenantId, plan)),
    ];
    for (const step of steps) checks.push(...((await step.check?.(demoRun, stats)) ?? []));
    return verdict(checks, stats.anomalies);
  } finally {
    for (const step of steps) await step.close?.();
  }
}

function verdict(checks: readonly Check[], anomalies: readonly string[]): number {
  reportChecks(checks);
  reportAnomalies(anomalies);
  const failed = checks.filter((check) => !check.pass).length;
  say(failed === 0 ? 'Demo: every check passed.' : `Demo: ${failed} check(s) FAILED.`);
  return failed === 0 ? 0 : 1;
}

async function createDemoTenant(config: Config) {
  const sql = createSql(config, { max: 1, application: 'fintech-core-demo' });
  try {
    const { tenant, secret } = await createTenant(sql, 'Berka bank replay', 'demo');
    return { tenantId: tenant.id, secret };
  } finally {
    await sql.end();
  }
}

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  say(`${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
