import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Sql } from '../../src/db/sql.js';
import { configEnv, testConfig } from '../support/env.js';
import {
  connect,
  createAccounts,
  createWorkerDatabase,
  dropScratchDatabase,
  enqueueAll,
  healthyLedger,
  insertPendingTransfers,
  type LogRecord,
  ledgerReport,
  newTenant,
  statusCounts,
  type TransferSpec,
  waitForFinal,
  waitUntil,
} from './fixtures.js';
import { createProducer, type Producer } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface WorkerChild {
  process: ChildProcess;
  records: LogRecord[];
  stderr: string[];
  exited: Promise<number | null>;
}

/** Starts `workers/transfers.ts` as its own process, collecting its JSON log lines. */
function spawnWorker(config: Config): WorkerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/transfers.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...configEnv(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: LogRecord[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{')) records.push(JSON.parse(line) as LogRecord);
  });
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { process: child, records, stderr, exited };
}

async function started(child: WorkerChild): Promise<void> {
  await waitUntil('the worker process started', async () => {
    if (child.process.exitCode !== null) {
      throw new Error(`worker exited early: ${child.stderr.join('\n')}`);
    }
    return child.records.some((record) => record.msg === 'worker started');
  });
}

let databaseUrl: string;
let sql: Sql;
const children: WorkerChild[] = [];
const producers: Producer[] = [];

function config(overrides: Record<string, string> = {}): Config {
  return testConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', ...overrides });
}

function start(cfg: Config): WorkerChild {
  const child = spawnWorker(cfg);
  children.push(child);
  return child;
}

function producerFor(cfg: Config): Producer {
  const producer = createProducer(cfg);
  producers.push(producer);
  return producer;
}

/** Transfers among `accounts` with amounts from 1 to `maxAmount`, sources spread evenly. */
function randomTransfers(accounts: string[], count: number, maxAmount: number): TransferSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const source = accounts[index % accounts.length] ?? '';
    const offset = 1 + Math.floor(Math.random() * (accounts.length - 1));
    const destination = accounts[(index + offset) % accounts.length] ?? '';
    return { source, destination, amount: BigInt(1 + Math.floor(Math.random() * maxAmount)) };
  });
}

beforeAll(async () => {
  databaseUrl = await createWorkerDatabase();
  sql = connect(config());
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }
  for (const producer of producers.splice(0)) await producer.close();
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  if (databaseUrl) await dropScratchDatabase(databaseUrl);
});

describe('worker processes', () => {
  it('never runs two jobs of one partition at once across processes', async () => {
    const cfg = config({ APPLY_BATCH_SIZE: '10' });
    const tenantId = await newTenant(sql);
    const accounts = await createAccounts(sql, tenantId, 40, 1_000_000_000n);
    const workers = [start(cfg), start(cfg)];
    await Promise.all(workers.map(started));

    // Transfers arrive in waves while processes come and go. A busy queue
    // keeps feeding the process that holds it, so the handovers come from
    // the stops: each stopping process leaves its partitions to the others.
    const producer = producerFor(cfg);
    for (let wave = 0; wave < 45; wave++) {
      if (wave === 15) {
        workers[0]?.process.kill('SIGTERM');
        workers.push(start(cfg));
      }
      if (wave === 30) workers[1]?.process.kill('SIGTERM');
      const transfers = await insertPendingTransfers(
        sql,
        cfg,
        tenantId,
        randomTransfers(accounts, 20, 500),
      );
      await enqueueAll(producer.queues, transfers);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitForFinal(sql, tenantId, 20_000);
    workers[2]?.process.kill('SIGTERM');
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0, 0]);

    const runs = workers.flatMap((worker) =>
      worker.records
        .filter((record) => record.msg === 'transfer job')
        .map((record) => ({
          pid: worker.process.pid,
          partition: Number(record.partition),
          start: BigInt(String(record.monotonicStartNs)),
          end: BigInt(String(record.monotonicEndNs)),
        })),
    );
    const handedOver = Array.from({ length: cfg.PARTITIONS }, (_, partition) => {
      const pids = runs.filter((run) => run.partition === partition).map((run) => run.pid);
      return new Set(pids).size;
    }).filter((processes) => processes > 1);
    expect(handedOver.length).toBeGreaterThan(0);
    const overlaps: string[] = [];
    for (let partition = 0; partition < cfg.PARTITIONS; partition++) {
      const mine = runs
        .filter((run) => run.partition === partition)
        .sort((a, b) => (a.start < b.start ? -1 : 1));
      for (let index = 1; index < mine.length; index++) {
        const previous = mine[index - 1];
        const current = mine[index];
        if (previous && current && current.start < previous.end) {
          overlaps.push(`p${partition}: ${previous.pid} and ${current.pid}`);
        }
      }
    }
    expect(overlaps).toEqual([]);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(900));
  });

  it('settles every transfer exactly once when a worker is killed mid-flight', async () => {
    const cfg = config({ APPLY_BATCH_SIZE: '5' });
    const tenantId = await newTenant(sql);
    const banks = await createAccounts(sql, tenantId, 20, 1_000_000_000n);
    const people = await createAccounts(sql, tenantId, 80);
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      randomTransfers([...banks, ...people], 2_000, 100),
    );
    await enqueueAll(producerFor(cfg).queues, transfers);

    const first = start(cfg);
    await waitUntil(
      'the first worker settled some transfers',
      async () => (await statusCounts(sql, tenantId)).pending <= 1_700,
      20_000,
      10,
    );
    first.process.kill('SIGKILL');
    await first.exited;
    const atKill = await statusCounts(sql, tenantId);
    expect(atKill.pending).toBeGreaterThan(0);

    const second = start(cfg);
    const counts = await waitForFinal(sql, tenantId, 30_000);
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    expect(counts.posted + counts.failed).toBe(2_000);
    expect(counts.failed).toBeGreaterThan(0);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(counts.posted));
  });
});
