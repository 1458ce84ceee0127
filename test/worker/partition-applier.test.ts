import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { partitionOf } from '../../src/queue/partitions.js';
import { createPartitionApplier } from '../../src/worker/partition-applier.js';
import {
  createAccount,
  createAccounts,
  healthyLedger,
  insertPendingTransfers,
  ledgerReport,
  newTenant,
  statuses,
} from './fixtures.js';
import { useWorkerDatabase } from './support.js';

const scratch = useWorkerDatabase({ APPLY_TRANSACTIONS: '1', APPLY_LINGER_MS: '0' });
const config = scratch.config;
let sql: Sql;
beforeAll(() => {
  sql = scratch.sql;
});

/** A pool that records every statement it sends. */
function recordingPool(cfg: Config): { pool: Sql; queries: string[] } {
  const queries: string[] = [];
  const pool = createSql(cfg, { max: 4, onQuery: (query) => queries.push(query) });
  scratch.track(() => pool.end({ timeout: 5 }));
  return { pool, queries };
}

/** Accounts whose partitions all differ, one per partition, `count` of them. */
async function sourcesInDistinctPartitions(
  cfg: Config,
  tenantId: string,
  count: number,
): Promise<{ account: string; partition: number }[]> {
  const candidates = await createAccounts(sql, tenantId, count * 8, 1_000n);
  const byPartition = new Map<number, string>();
  for (const account of candidates) {
    const partition = partitionOf(account, cfg.PARTITIONS);
    if (!byPartition.has(partition)) byPartition.set(partition, account);
  }
  const chosen = [...byPartition].slice(0, count);
  if (chosen.length < count) throw new Error('not enough distinct partitions among the accounts');
  return chosen.map(([partition, account]) => ({ account, partition }));
}

/**
 * An account outside `taken` partitions, in euros unless asked otherwise (so
 * that USD transfers from it are inconsistent).
 */
async function accountOutside(
  cfg: Config,
  tenantId: string,
  taken: number[],
  currency = 'EUR',
): Promise<{ account: string; partition: number }> {
  for (;;) {
    const account = await createAccount(sql, tenantId, { currency, overdraftLimit: 10n });
    const partition = partitionOf(account, cfg.PARTITIONS);
    if (!taken.includes(partition)) return { account, partition };
  }
}

const PARTITION_LOCKS = /pg_advisory_xact_lock\(\$1::int4, p\.partition\)/;

/**
 * Inserts a transfer from each source, then, on an applier of its own,
 * applies the first source's partition and `gapMs` later the others'.
 * Answers what each posted, the transactions taken (their lock statements),
 * and the gap as it was.
 */
async function applyFirstThenRest(
  cfg: Config,
  tenantId: string,
  sink: string,
  sources: { account: string; partition: number }[],
  gapMs: number,
): Promise<{ posted: number[]; transactions: number; gapMs: number }> {
  await insertPendingTransfers(
    sql,
    cfg,
    tenantId,
    sources.map(({ account }) => ({ source: account, destination: sink, amount: 1 })),
  );
  const { pool, queries } = recordingPool(cfg);
  const apply = createPartitionApplier(pool, cfg);
  const started = performance.now();
  const first = apply(pool, sources[0]?.partition ?? 0, 100);
  await new Promise((resolve) => setTimeout(resolve, gapMs));
  const gap = performance.now() - started;
  const rest = sources.slice(1).map(({ partition }) => apply(pool, partition, 100));
  const results = await Promise.all([first, ...rest]);
  return {
    posted: results.map((result) => result.posted),
    transactions: queries.filter((query) => PARTITION_LOCKS.test(query)).length,
    gapMs: gap,
  };
}

/**
 * Applies one batch of `partition` on `apply` and times it; a failed batch
 * answers its error as the result.
 */
async function timedApply(
  apply: ReturnType<typeof createPartitionApplier>,
  pool: Sql,
  partition: number,
  batchSize: number,
): Promise<{ result: unknown; ms: number }> {
  const started = performance.now();
  const result = await apply(pool, partition, batchSize).catch((error: unknown) => error);
  return { result, ms: performance.now() - started };
}

describe('applying the partitions of concurrent jobs together', () => {
  it('applies partitions that ask while a transaction runs in one more transaction', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    const sources = await sourcesInDistinctPartitions(cfg, tenantId, 4);
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      sources.flatMap(({ account }) =>
        [1, 2, 3].map((amount) => ({ source: account, destination: sink, amount })),
      ),
    );
    const { pool, queries } = recordingPool(cfg);
    const apply = createPartitionApplier(pool, cfg);

    const results = await Promise.all(sources.map(({ partition }) => apply(pool, partition, 100)));

    sources.forEach(({ partition }, n) => {
      const own = transfers.filter((transfer) => transfer.partition === partition);
      expect(results[n]?.settled.map((transfer) => transfer.id)).toEqual(own.map((t) => t.id));
      expect(results[n]?.posted).toBe(3);
    });
    // The first call found the applier idle and went alone; the other three shared one.
    expect(queries.filter((query) => PARTITION_LOCKS.test(query))).toHaveLength(2);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(12));
  });

  it('lets the first partition wait for others when asked to linger', async () => {
    const cfg = config({ APPLY_LINGER_MS: '200' });
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    const sources = await sourcesInDistinctPartitions(cfg, tenantId, 4);

    const run = await applyFirstThenRest(cfg, tenantId, sink, sources, 50);

    expect(run.posted).toEqual([1, 1, 1, 1]);
    expect(run.transactions).toBe(1);
  });

  it('by default lets partitions asking 8 ms after an idle start share a transaction', async () => {
    // The default linger (APPLY_LINGER_MS, unset) outlasts the gaps between
    // jobs at moderate load, so that they commit once instead of each alone.
    const cfg = config({ APPLY_LINGER_MS: '' });
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    const sources = await sourcesInDistinctPartitions(cfg, tenantId, 4);

    // A stall of the test's own event loop past the linger would split the
    // round whatever the default; such an attempt is not counted.
    for (let attempt = 0; ; attempt += 1) {
      const run = await applyFirstThenRest(cfg, tenantId, sink, sources, 8);
      expect(run.posted).toEqual([1, 1, 1, 1]);
      if (run.gapMs > 16 && attempt < 4) continue;
      expect(run.transactions).toBe(1);
      return;
    }
  });

  it('does not linger for a partition whose last batch was full', async () => {
    const cfg = config({ APPLY_LINGER_MS: '300', APPLY_BATCH_SIZE: '2' });
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    const [source] = await sourcesInDistinctPartitions(cfg, tenantId, 1);
    if (!source) throw new Error('a source expected');
    await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      [1, 2, 3, 4, 5].map((amount) => ({ source: source.account, destination: sink, amount })),
    );
    const { pool } = recordingPool(cfg);
    const apply = createPartitionApplier(pool, cfg);
    const runs = [];
    for (let run = 0; run < 4; run += 1)
      runs.push(await timedApply(apply, pool, source.partition, 2));

    expect(runs.map((run) => (run.result as { posted: number }).posted)).toEqual([2, 2, 1, 0]);
    // The first found the step idle and lingered; the next two followed a
    // full batch and went at once; the last followed a batch of one.
    expect(runs[0]?.ms).toBeGreaterThanOrEqual(280);
    expect(runs[1]?.ms).toBeLessThan(250);
    expect(runs[2]?.ms).toBeLessThan(250);
    expect(runs[3]?.ms).toBeGreaterThanOrEqual(280);
  });

  it('holds up only the partition whose transfer breaks the shared transaction', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    const [first, good] = await sourcesInDistinctPartitions(cfg, tenantId, 2);
    if (!first || !good) throw new Error('two sources expected');
    // Accepted transfers are in USD; an account in another currency is a bug in acceptance.
    const badSource = await accountOutside(cfg, tenantId, [first.partition, good.partition]);
    const [goodTransfer, badTransfer] = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: good.account, destination: sink, amount: 1 },
      { source: badSource.account, destination: sink, amount: 1 },
    ]);
    if (!goodTransfer || !badTransfer) throw new Error('two transfers expected');
    const { pool } = recordingPool(cfg);
    const apply = createPartitionApplier(pool, cfg);

    const busy = apply(pool, first.partition, 100);
    const [goodResult, badResult] = await Promise.allSettled([
      apply(pool, good.partition, 100),
      apply(pool, badSource.partition, 100),
    ]);
    await busy;

    expect(goodResult.status).toBe('fulfilled');
    if (goodResult.status === 'fulfilled') expect(goodResult.value.posted).toBe(1);
    expect(badResult.status).toBe('rejected');
    if (badResult.status === 'rejected') {
      expect(String(badResult.reason)).toMatch(/does not match account/);
    }
    expect(await statuses(sql, [goodTransfer.id, badTransfer.id])).toEqual(['posted', 'pending']);
  });

  it('lingers again for a partition whose batch failed after a full one', async () => {
    const cfg = config({ APPLY_LINGER_MS: '300', APPLY_BATCH_SIZE: '2' });
    const tenantId = await newTenant(sql);
    const sink = await createAccount(sql, tenantId);
    // A partition no earlier case left a transfer pending in, and two accounts
    // in it: one in USD, like the transfers, and one in euros.
    const used = await sql<{ partition: number }[]>`
      select distinct partition from pending_transfers`;
    const taken = used.map((row) => row.partition);
    const { account: source, partition } = await accountOutside(cfg, tenantId, taken, 'USD');
    const others = Array.from({ length: cfg.PARTITIONS }, (_, n) => n).filter(
      (n) => n !== partition,
    );
    const { account: euros } = await accountOutside(cfg, tenantId, others);
    await insertPendingTransfers(sql, cfg, tenantId, [
      { source, destination: sink, amount: 1 },
      { source, destination: sink, amount: 2 },
    ]);
    const { pool } = recordingPool(cfg);
    const apply = createPartitionApplier(pool, cfg);
    const timed = () => timedApply(apply, pool, partition, 2);

    const full = await timed();
    // Accepted transfers are in USD; one from the euro account is a bug in acceptance.
    await insertPendingTransfers(sql, cfg, tenantId, [
      { source: euros, destination: sink, amount: 1 },
    ]);
    const failedAtOnce = await timed();
    const failedAgain = await timed();

    expect(full.result).toMatchObject({ posted: 2 });
    expect(failedAtOnce.result).toBeInstanceOf(Error);
    expect(failedAgain.result).toBeInstanceOf(Error);
    expect(failedAtOnce.ms).toBeLessThan(250);
    expect(failedAgain.ms).toBeGreaterThanOrEqual(280);
  });
});
