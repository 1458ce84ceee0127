import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { PARTITION_LOCK_NAMESPACE } from '../../src/data/ledger.js';
import type { Sql } from '../../src/db/sql.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { sweepOnce } from '../../src/services/sweeper.js';
import {
  captureLogger,
  createAccounts,
  enqueueAll,
  healthyLedger,
  insertPendingTransfers,
  ledgerReport,
  newTenant,
  waitForFinal,
  waitUntil,
  wipePrefix,
} from './fixtures.js';
import { silentLogger, useWorkerDatabase } from './support.js';

const scratch = useWorkerDatabase({ SWEEPER_INTERVAL_MS: '200', SWEEPER_PENDING_AFTER_MS: '300' });
const config = scratch.config;
let sql: Sql;
beforeAll(() => {
  sql = scratch.sql;
});

const { producerFor } = scratch;

async function acceptSome(cfg: Config, count: number) {
  const tenantId = await newTenant(sql);
  const accounts = await createAccounts(sql, tenantId, 20, 1_000_000n);
  const transfers = await insertPendingTransfers(
    sql,
    cfg,
    tenantId,
    Array.from({ length: count }, (_, index) => ({
      source: accounts[index % accounts.length] ?? '',
      destination: accounts[(index * 7 + 1) % accounts.length] ?? '',
      amount: BigInt(1 + (index % 13)),
    })),
  );
  return { tenantId, transfers };
}

/** The accounts of a transfer, to send another one between them. */
async function accountsOf(transferId: string): Promise<{ source: string; destination: string }> {
  const [row] = await sql<{ sourceAccountId: string; destinationAccountId: string }[]>`
    select source_account_id, destination_account_id from transfers where id = ${transferId}`;
  if (!row) throw new Error(`no transfer ${transferId}`);
  return { source: row.sourceAccountId, destination: row.destinationAccountId };
}

function sweeps(records: ReturnType<typeof captureLogger>['records']) {
  return records.filter((record) => record.msg === 'sweep');
}

describe('recovery sweeper', () => {
  it('settles accepted transfers whose jobs Redis lost before a worker ran', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const { tenantId, transfers } = await acceptSome(cfg, 300);
    await enqueueAll(producer.queues, transfers);
    expect(await wipePrefix(producer.redis, cfg.REDIS_PREFIX)).toBeGreaterThan(0);
    expect(await producer.queues.queue(0).getJobCounts('wait')).toEqual({ wait: 0 });

    const { logger, records } = captureLogger();
    await scratch.workersFor(cfg, { logger });
    const counts = await waitForFinal(sql, tenantId);
    const reenqueuedSoFar = () =>
      sweeps(records).reduce((sum, record) => sum + Number(record.reenqueued), 0);
    // A pass logs once it has committed, which can be after the workers
    // have settled what it enqueued.
    await waitUntil('a sweep reports what it enqueued', async () => reenqueuedSoFar() > 0, 5_000);

    expect(counts.pending).toBe(0);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(counts.posted));
  });

  it('counts as re-enqueued only the jobs it added, not those a waiting job absorbed', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const tenantId = await newTenant(sql);
    const [source, destination] = await createAccounts(sql, tenantId, 2, 1_000n);
    if (!source || !destination) throw new Error('no accounts');
    // One source: one partition. The first transfer's job waits (no worker
    // runs); the other four lost theirs.
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 5 }, () => ({ source, destination, amount: 1n })),
    );
    await enqueueAll(producer.queues, transfers.slice(0, 1));
    await new Promise((resolve) => setTimeout(resolve, cfg.SWEEPER_PENDING_AFTER_MS + 100));

    const result = await sweepOnce({
      config: cfg,
      sql,
      queues: producer.queues,
      logger: silentLogger,
    });

    // The partition's waiting job applies all five; the adds were absorbed.
    expect(result).toMatchObject({ stale: 5, reenqueued: 0, retried: 0, errors: 0 });
    const queue = producer.queues.queue(transfers[0]?.partition ?? 0);
    expect(await queue.getJobCounts('wait')).toEqual({ wait: 1 });
  });

  it('frees a partition whose wake-up points to a settled job that left every list', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const { tenantId, transfers } = await acceptSome(cfg, 1);
    const [first] = transfers;
    if (!first) throw new Error('no transfer');
    await enqueueAll(producer.queues, [first]);
    // Its transfer settles by another way, and a partial loss of Redis data
    // leaves the job's hash but not its place in the queue.
    await applyPendingBatch(sql, first.partition, 100);
    const queueKey = `${cfg.REDIS_PREFIX}:transfers-p${first.partition}`;
    expect(await producer.redis.lrem(`${queueKey}:wait`, 0, first.id)).toBe(1);
    const more = await insertPendingTransfers(sql, cfg, tenantId, [
      { ...(await accountsOf(first.id)), amount: 1n },
    ]);
    await enqueueAll(producer.queues, more);
    const queue = producer.queues.queue(first.partition);
    expect(await queue.getJobCounts('wait', 'active', 'delayed')).toEqual({
      wait: 0,
      active: 0,
      delayed: 0,
    });

    const { logger, records } = captureLogger();
    await scratch.workersFor(cfg, { logger });
    const counts = await waitForFinal(sql, tenantId);

    expect(counts.pending).toBe(0);
    expect(records.some((record) => record.msg.startsWith('sweeper freed a wake-up'))).toBe(true);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(counts.posted));
  });

  it('restores the group lock and enqueues transfers left with no job while running', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    await scratch.workersFor(cfg);
    await wipePrefix(producer.redis, cfg.REDIS_PREFIX);
    // Accepted and committed, but the enqueue step never happened.
    const { tenantId } = await acceptSome(cfg, 100);

    const counts = await waitForFinal(sql, tenantId);
    for (const queue of producer.queues.all()) {
      expect(await queue.getGlobalConcurrency()).toBe(1);
    }
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(counts.posted));
  });

  it('retries a job that used up its attempts while its transfer is pending', async () => {
    const cfg = config({ JOB_ATTEMPTS: '1' });
    const producer = producerFor(cfg);
    let broken = true;
    const { logger, records } = captureLogger();
    await scratch.workersFor(cfg, {
      logger,
      apply: async (db, partition, batchSize) => {
        if (broken) throw new Error('simulated bug');
        return applyPendingBatch(db, partition, batchSize);
      },
    });
    const { tenantId, transfers } = await acceptSome(cfg, 1);
    const [transfer] = transfers;
    if (!transfer) throw new Error('no transfer');
    await enqueueAll(producer.queues, transfers);
    await waitUntil('the job failed for good', async () => {
      const job = await producer.queues.queue(transfer.partition).getJob(transfer.id);
      return (await job?.getState()) === 'failed';
    });

    broken = false;
    await waitForFinal(sql, tenantId);
    const retried = () => sweeps(records).some((record) => Number(record.retried) > 0);
    // As above: the pass logs after its commit.
    await waitUntil('a sweep reports the job it retried', async () => retried(), 5_000);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(1));
  });

  it('deletes expired idempotency records and keeps live ones', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const tenantId = await newTenant(sql);
    const rows = (count: number, expiresAt: Date, tag: string) =>
      Array.from({ length: count }, (_, index) => ({
        tenantId,
        method: 'POST',
        path: '/v1/transfers',
        key: `${tag}-${index}`,
        fingerprint: 'f',
        resourceType: 'transfer',
        resourceId: `tr_${index}`,
        responseStatus: 202,
        expiresAt,
      }));
    const columns = [
      'tenantId',
      'method',
      'path',
      'key',
      'fingerprint',
      'resourceType',
      'resourceId',
      'responseStatus',
      'expiresAt',
    ] as const;
    const old = rows(2_500, new Date(Date.now() - 1_000), 'old');
    await sql`insert into idempotency_keys ${sql(old, ...columns)}`;
    const live = rows(3, new Date(Date.now() + 3_600_000), 'live');
    await sql`insert into idempotency_keys ${sql(live, ...columns)}`;

    const result = await sweepOnce({
      config: cfg,
      sql,
      queues: producer.queues,
      logger: silentLogger,
    });

    expect(result?.deletedKeys).toBe(2_500);
    const [left] = await sql<{ count: bigint }[]>`
      select count(*) as count from idempotency_keys where tenant_id = ${tenantId}`;
    expect(left?.count).toBe(3n);
  });

  it('lets only one sweeper act at a time', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const deps = { config: cfg, sql, queues: producer.queues, logger: silentLogger };
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    const holder = sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${PARTITION_LOCK_NAMESPACE}::int4, -1)`;
      held = true;
      await released;
    });
    await waitUntil('another sweeper holds the lock', async () => held);

    expect(await sweepOnce(deps)).toBeUndefined();
    release();
    await holder;
    expect(await sweepOnce(deps)).toBeDefined();
  });
});
