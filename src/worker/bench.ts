import { type Config, loadConfig } from '../config.js';
import { dropDatabase, migrate } from '../db/migrate.js';
import { createSql, type Sql } from '../db/sql.js';
import { newId } from '../lib/ids.js';
import { createLogger } from '../logger.js';
import { partitionOf } from '../queue/partitions.js';
import { TransferQueues } from '../queue/transfer-queues.js';
import { createRedis, type Redis } from '../redis/connection.js';
import { createTenant } from '../services/tenants.js';
import { startTransferWorkers } from './transfer-workers.js';

/*
 * Measures how fast one worker process applies a backlog: 5,000 pending
 * transfers, queued before the worker starts, over 16 partitions, first spread
 * over 1,000 accounts and then all from one hot source. It uses a database and
 * a Redis prefix of its own, derived from the configured ones, and drops the
 * database afterwards. Run: npx tsx src/worker/bench.ts
 */

const TRANSFERS = 5_000;
const ACCOUNTS = 1_000;

interface Scenario {
  name: string;
  plan: (accounts: string[]) => { source: string; destination: string }[];
}

const scenarios: Scenario[] = [
  {
    name: 'spread over 1,000 accounts',
    plan: (accounts) =>
      Array.from({ length: TRANSFERS }, (_, index) => ({
        source: pick(accounts, index),
        destination: pick(accounts, index + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))),
      })),
  },
  {
    name: 'one hot source',
    plan: (accounts) =>
      Array.from({ length: TRANSFERS }, (_, index) => ({
        source: pick(accounts, 0),
        destination: pick(accounts, 1 + (index % (ACCOUNTS - 1))),
      })),
  },
];

function pick(accounts: string[], index: number): string {
  const account = accounts[index % accounts.length];
  if (account === undefined) throw new Error('no accounts');
  return account;
}

async function main(): Promise<void> {
  const base = loadConfig();
  const url = new URL(base.DATABASE_URL);
  url.pathname = `${url.pathname}_worker_bench`;
  const config: Config = {
    ...base,
    DATABASE_URL: url.toString(),
    REDIS_PREFIX: `${base.REDIS_PREFIX}-worker-bench`,
    PARTITIONS: 16,
    LOG_LEVEL: 'warn',
  };
  await dropDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL);
  const sql = createSql(config, { application: 'fintech-core-bench' });
  const redis = createRedis(config);
  try {
    for (const scenario of scenarios) {
      const perSecond = await run(config, sql, redis, scenario);
      process.stdout.write(`${scenario.name}: ${perSecond.toFixed(0)} transfers/s\n`);
    }
  } finally {
    await wipe(redis, config.REDIS_PREFIX);
    await redis.quit();
    await sql.end({ timeout: 5 });
    await dropDatabase(config.DATABASE_URL);
  }
}

async function run(config: Config, sql: Sql, redis: Redis, scenario: Scenario): Promise<number> {
  const { tenant } = await createTenant(sql, `bench ${scenario.name}`);
  const accounts = await insertAccounts(sql, tenant.id);
  const transfers = scenario.plan(accounts).map((leg) => ({
    id: newId('tr'),
    tenantId: tenant.id,
    sourceAccountId: leg.source,
    destinationAccountId: leg.destination,
    partition: partitionOf(leg.source, config.PARTITIONS),
    amount: '1',
    currency: 'USD',
  }));
  for (let start = 0; start < transfers.length; start += 1_000) {
    await sql`insert into transfers ${sql(transfers.slice(start, start + 1_000))}`;
  }
  const queues = new TransferQueues(config, redis);
  for (let start = 0; start < transfers.length; start += 500) {
    await Promise.all(
      transfers
        .slice(start, start + 500)
        .map((transfer) =>
          queues.enqueue(transfer.partition, { transferId: transfer.id, tenantId: tenant.id }),
        ),
    );
  }

  const workerSql = createSql(config, { application: 'fintech-core-bench-worker' });
  const started = performance.now();
  const workers = await startTransferWorkers(config, {
    sql: workerSql,
    logger: createLogger(config, 'bench'),
    sweeper: false,
  });
  while ((await pendingCount(sql, tenant.id)) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await workers.close();
  await workerSql.end({ timeout: 5 });
  await queues.close();
  return transfers.length / seconds;
}

async function insertAccounts(sql: Sql, tenantId: string): Promise<string[]> {
  const rows = Array.from({ length: ACCOUNTS }, () => ({
    id: newId('acct'),
    tenantId,
    currency: 'USD',
    overdraftLimit: '1000000000',
  }));
  await sql`insert into accounts ${sql(rows)}`;
  return rows.map((row) => row.id);
}

async function pendingCount(sql: Sql, tenantId: string): Promise<number> {
  const [row] = await sql<{ count: bigint }[]>`
    select count(*) as count from transfers where tenant_id = ${tenantId} and status = 'pending'`;
  return Number(row?.count ?? 0n);
}

async function wipe(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

await main();
