import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { dropDatabase, migrate } from '../db/migrate.js';
import { createSql, type Sql } from '../db/sql.js';
import { newId } from '../lib/ids.js';
import { partitionOf } from '../queue/partitions.js';
import { createPartitionApplier } from '../worker/partition-applier.js';
import { count, UsageError } from './args.js';
import { BENCH_CURRENCY, seedTenant } from './seed.js';

/*
 * `npm run bench:apply-sessions`: what a second apply session adds on this
 * machine, measured on the worker's own apply step alone, with no queue, web
 * process or load generator. A backlog of pending transfers is applied by one
 * session over every partition, then by two sessions (separate processes)
 * over half of the partitions each, until none is left: once with every
 * transfer paying an account in its own half of the partitions, so that the
 * two sessions' transactions share no account, and once with destinations
 * drawn from every account, as in the benchmark's scenarios. The first pair
 * shows what the machine allows; the second, what waiting on each other's
 * account rows leaves of it.
 */

const USAGE = `usage: npm run bench:apply-sessions -- [--transfers N] [--accounts N] [--rounds N]
  --transfers N   pending transfers per run (default 40000)
  --accounts N    accounts per run (default 1000)
  --rounds N      times to measure the four runs, alternated (default 2)`;

const PARTITIONS = 16;
const BATCH_SIZE = 100;
const SESSION_ROLE = '--session';

export interface ApplySessionsOptions {
  databaseUrl: string;
  transfers: number;
  accounts: number;
  rounds: number;
}

export type AccountSharing = 'disjoint' | 'shared';

export interface ApplySessionsRun {
  round: number;
  sharing: AccountSharing;
  sessions: 1 | 2;
  settled: number;
  /** From the first session's start to the last one's end, as each session timed itself. */
  seconds: number;
  perSecond: number;
  /** Every transfer posted, two entries each, and the tenant's balances sum to zero. */
  reconciled: boolean;
}

/** The four runs, `rounds` times, each on a fresh tenant of the same database. */
export async function measureApplySessions(
  options: ApplySessionsOptions,
  report: (run: ApplySessionsRun) => void = () => undefined,
): Promise<ApplySessionsRun[]> {
  await dropDatabase(options.databaseUrl);
  await migrate(options.databaseUrl);
  const sql = createSql(sessionConfig(options.databaseUrl), {
    max: 2,
    application: 'bench-apply-sessions',
  });
  const all = Array.from({ length: PARTITIONS }, (_, partition) => partition);
  const halves = [all.slice(0, PARTITIONS / 2), all.slice(PARTITIONS / 2)];
  const runs: ApplySessionsRun[] = [];
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const sharing of ['disjoint', 'shared'] as const) {
        for (const sessions of [1, 2] as const) {
          const tenantId = await seedBacklog(sql, options, sharing, round);
          await sql`checkpoint`;
          const started = (sessions === 1 ? [all] : halves).map((partitions) =>
            startSession(options.databaseUrl, partitions),
          );
          await Promise.all(started.map((one) => one.ready));
          for (const one of started) one.go();
          const timings = await Promise.all(started.map((one) => one.done));
          const settled = timings.reduce((sum, timing) => sum + timing.settled, 0);
          const seconds =
            (Math.max(...timings.map((t) => t.endMs)) -
              Math.min(...timings.map((t) => t.startMs))) /
            1000;
          const run: ApplySessionsRun = {
            round,
            sharing,
            sessions,
            settled,
            seconds,
            perSecond: Math.round(settled / seconds),
            reconciled: await reconciles(sql, tenantId, options.transfers),
          };
          runs.push(run);
          report(run);
        }
      }
    }
  } finally {
    await sql.end();
    await dropDatabase(options.databaseUrl);
  }
  return runs;
}

/** A tenant with `accounts` accounts and `transfers` pending transfers between them. */
async function seedBacklog(
  sql: Sql,
  options: ApplySessionsOptions,
  sharing: AccountSharing,
  round: number,
): Promise<string> {
  const tenant = await seedTenant(sql, `apply sessions ${sharing} ${round}`, options.accounts);
  const half = (id: string) => (partitionOf(id, PARTITIONS) < PARTITIONS / 2 ? 0 : 1);
  const byHalf = [0, 1].map((side) => tenant.accountIds.filter((id) => half(id) === side));
  const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)] as string;
  const rows = Array.from({ length: options.transfers }, () => {
    const source = pick(tenant.accountIds);
    const pool = sharing === 'disjoint' ? (byHalf[half(source)] ?? []) : tenant.accountIds;
    let destination = pick(pool);
    while (destination === source) destination = pick(pool);
    return {
      id: newId('tr'),
      tenantId: tenant.tenantId,
      sourceAccountId: source,
      destinationAccountId: destination,
      partition: partitionOf(source, PARTITIONS),
      amount: '1',
      currency: BENCH_CURRENCY,
    };
  });
  for (let start = 0; start < rows.length; start += 2_000) {
    await sql`insert into transfers ${sql(
      rows.slice(start, start + 2_000),
      'id',
      'tenantId',
      'sourceAccountId',
      'destinationAccountId',
      'partition',
      'amount',
      'currency',
    )}`;
  }
  await sql`analyze transfers`;
  return tenant.tenantId;
}

async function reconciles(sql: Sql, tenantId: string, transfers: number): Promise<boolean> {
  const [row] = await sql<{ posted: number; entries: number; balances: string }[]>`
    select
      (select count(*)::int from transfers where tenant_id = ${tenantId} and status = 'posted')
        as posted,
      (select count(*)::int from entries where tenant_id = ${tenantId}) as entries,
      (select coalesce(sum(balance), 0)::text from accounts where tenant_id = ${tenantId})
        as balances`;
  return row?.posted === transfers && row.entries === 2 * transfers && row.balances === '0';
}

interface SessionTiming {
  settled: number;
  startMs: number;
  endMs: number;
}

interface Session {
  /** Resolves once the process is connected and waits for `go`. */
  ready: Promise<void>;
  go(): void;
  done: Promise<SessionTiming>;
}

/**
 * One apply session in a process of its own, applying `partitions` until
 * nothing is pending once told to go: the sessions of a run start together,
 * whatever each process took to start.
 */
function startSession(databaseUrl: string, partitions: number[]): Session {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, SESSION_ROLE, databaseUrl, partitions.join(',')],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let buffered = '';
  let onLine: () => void = () => undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    onLine();
  });
  const ready = new Promise<void>((resolve) => {
    onLine = () => {
      if (lines.includes('ready')) resolve();
    };
  });
  const done = new Promise<SessionTiming>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const result = lines.at(-1) ?? buffered;
      if (code === 0) resolve(JSON.parse(result) as SessionTiming);
      else reject(new Error(`apply session exited with ${code}`));
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), done };
}

/** The session's side: what the worker's apply step does, without a queue in front. */
async function session(databaseUrl: string, partitions: number[]): Promise<void> {
  const sql = createSql(sessionConfig(databaseUrl), { max: 1, application: 'bench-apply-session' });
  await sql`select 1`;
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  // Wall clock, so that the parent can place two processes' sessions on one time line.
  const startMs = Date.now();
  let settled = 0;
  // A worker process's apply step, whose partitions share each transaction.
  const apply = createPartitionApplier(sql, {
    APPLY_BATCH_SIZE: BATCH_SIZE,
    APPLY_TRANSACTIONS: 1,
    APPLY_LINGER_MS: 1,
    PARTITIONS,
  });
  for (;;) {
    const results = await Promise.all(partitions.map((p) => apply(sql, p, BATCH_SIZE)));
    const count = results.reduce((sum, result) => sum + result.settled.length, 0);
    const deferred = results.reduce((sum, result) => sum + result.deferred, 0);
    if (count === 0 && deferred === 0) break;
    settled += count;
  }
  const timing: SessionTiming = { settled, startMs, endMs: Date.now() };
  await sql.end();
  process.stdout.write(`${JSON.stringify(timing)}\n`);
}

function sessionConfig(databaseUrl: string) {
  return loadConfig({ DATABASE_URL: databaseUrl, PARTITIONS: String(PARTITIONS) });
}

/** The ratio of two sessions to one, per account sharing and round. */
export function ratios(runs: ApplySessionsRun[]): { round: number; sharing: string; x: number }[] {
  return runs
    .filter((run) => run.sessions === 2)
    .map((two) => {
      const one = runs.find(
        (run) => run.sessions === 1 && run.round === two.round && run.sharing === two.sharing,
      );
      return { round: two.round, sharing: two.sharing, x: one ? two.perSecond / one.perSecond : 0 };
    });
}

async function main(args: string[]): Promise<number> {
  if (args[0] === SESSION_ROLE) {
    await session(args[1] ?? '', (args[2] ?? '').split(',').map(Number));
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        transfers: { type: 'string', default: '40000' },
        accounts: { type: 'string', default: '1000' },
        rounds: { type: 'string', default: '2' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options: ApplySessionsOptions = {
    // A database of its own, as the benchmark's, dropped before and after.
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/fintech_core_bench_apply',
    transfers: count('--transfers', String(values.transfers), 1_000_000),
    accounts: count('--accounts', String(values.accounts), 1_000_000),
    rounds: count('--rounds', String(values.rounds), 10),
  };
  const runs = await measureApplySessions(options, (run) => {
    process.stdout.write(
      `round ${run.round}, ${run.sharing} accounts, ${run.sessions} session(s): ` +
        `${run.settled} settled in ${run.seconds.toFixed(2)} s, ${run.perSecond}/s` +
        `${run.reconciled ? '' : ' (the ledger does not reconcile)'}\n`,
    );
  });
  for (const { round, sharing, x } of ratios(runs)) {
    process.stdout.write(
      `round ${round}: two sessions over ${sharing} accounts, ${x.toFixed(2)}x one\n`,
    );
  }
  return runs.every((run) => run.reconciled) ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  });
}
