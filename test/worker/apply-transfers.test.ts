import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { writeSettlement } from '../../src/data/ledger.js';
import { findTransfer } from '../../src/data/transfers.js';
import type { Sql } from '../../src/db/sql.js';
import { partitionOf } from '../../src/queue/partitions.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { sequenceEvents } from '../../src/services/event-sequencer.js';
import { transferView } from '../../src/services/views.js';
import {
  balanceOf,
  captureLogger,
  connect,
  createAccount,
  createAccounts,
  enqueueAll,
  healthyLedger,
  insertPendingTransfers,
  ledgerReport,
  newTenant,
  type PendingFixture,
  statusCounts,
  statuses,
  waitForFinal,
  waitUntil,
} from './fixtures.js';
import {
  appliedOneByOne,
  type Producer,
  startInProcessWorkers,
  transientError,
  useWorkerDatabase,
} from './support.js';

const scratch = useWorkerDatabase();
const config = scratch.config;
let sql: Sql;
beforeAll(() => {
  sql = scratch.sql;
});

const { workersFor, producerFor } = scratch;

/** Moves `amount` from `bank` to `account` through the running worker. */
async function fund(
  cfg: Config,
  producer: Producer,
  tenantId: string,
  bank: string,
  account: string,
  amount: bigint,
): Promise<void> {
  const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
    { source: bank, destination: account, amount },
  ]);
  await enqueueAll(producer.queues, transfers);
  await waitUntil('the funding transfer posted', async () => {
    const [status] = await statuses(
      sql,
      transfers.map((transfer) => transfer.id),
    );
    return status === 'posted';
  });
}

/**
 * A tenant with a bank that may overdraw and two accounts, Alice and Bob, and
 * a producer, under settings that apply one transfer per batch.
 */
async function batchesOfOne() {
  const cfg = config({ APPLY_BATCH_SIZE: '1' });
  const tenantId = await newTenant(sql);
  const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
  const alice = await createAccount(sql, tenantId);
  const bob = await createAccount(sql, tenantId);
  return { cfg, tenantId, bank, alice, bob, producer: producerFor(cfg) };
}

describe('applying transfers', () => {
  it('never spends the same money twice under concurrent workers and appliers', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
    const alice = await createAccount(sql, tenantId);
    const bob = await createAccount(sql, tenantId);
    const producer = producerFor(cfg);
    await workersFor(cfg);
    await workersFor(cfg);
    await fund(cfg, producer, tenantId, bank, alice, 50n);

    // Appliers that ignore the queue entirely, as a job whose queue lock lapsed would.
    const partition = partitionOf(alice, cfg.PARTITIONS);
    const rogue = connect(cfg, 'rogue-applier');
    scratch.track(() => rogue.end({ timeout: 5 }));
    let accepting = true;
    const rogues = [3, 5, 7].map(async (batchSize) => {
      for (;;) {
        const result = await applyPendingBatch(rogue, partition, batchSize);
        if (result.settled.length > 0) continue;
        if (!accepting) return;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    const accepted = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
          { source: alice, destination: bob, amount: 1n },
        ]);
        await enqueueAll(producer.queues, transfers);
        return transfers;
      }),
    );
    accepting = false;
    await Promise.all(rogues);

    const counts = await waitForFinal(sql, tenantId);
    const outcomes = await statuses(
      sql,
      accepted.flat().map((transfer) => transfer.id),
    );
    expect(counts).toEqual({ pending: 0, posted: 51, failed: 150 });
    expect(outcomes.filter((outcome) => outcome === 'posted')).toHaveLength(50);
    expect(outcomes.filter((outcome) => outcome === 'failed:insufficient_funds')).toHaveLength(150);
    expect(await balanceOf(sql, alice)).toBe(0n);
    expect(await balanceOf(sql, bob)).toBe(50n);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(51));
  });

  it('applies transfers of one source in acceptance order', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
    const alice = await createAccount(sql, tenantId);
    const bob = await createAccount(sql, tenantId);
    const producer = producerFor(cfg);
    await workersFor(cfg);
    await fund(cfg, producer, tenantId, bank, alice, 100n);

    const amounts = [60n, 50n, 40n, 30n];
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      amounts.map((amount) => ({ source: alice, destination: bob, amount })),
    );
    await enqueueAll(producer.queues, transfers);
    await waitForFinal(sql, tenantId);

    const expected = appliedOneByOne(100n, amounts);
    expect(expected).toEqual([
      'posted',
      'failed:insufficient_funds',
      'posted',
      'failed:insufficient_funds',
    ]);
    expect(
      await statuses(
        sql,
        transfers.map((transfer) => transfer.id),
      ),
    ).toEqual(expected);
    expect(await balanceOf(sql, alice)).toBe(0n);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(3));
  });

  it('keeps acceptance order when a later job runs first and the first attempt fails', async () => {
    const { cfg, tenantId, bank, alice, bob, producer } = await batchesOfOne();
    let failures = 0;
    const { logger, records } = captureLogger();
    await workersFor(cfg, {
      logger,
      apply: async (db, partition, batchSize) => {
        if (failures > 0) {
          failures--;
          throw transientError();
        }
        return applyPendingBatch(db, partition, batchSize);
      },
    });
    await fund(cfg, producer, tenantId, bank, alice, 100n);

    const amounts = [60n, 50n, 40n, 30n];
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      amounts.map((amount) => ({ source: alice, destination: bob, amount })),
    );
    failures = 1;
    await enqueueAll(producer.queues, [...transfers].reverse().slice(0, 1));
    await waitUntil('the first attempt failed', async () => failures === 0);
    await enqueueAll(producer.queues, [...transfers].reverse());
    await waitForFinal(sql, tenantId);

    expect(
      await statuses(
        sql,
        transfers.map((transfer) => transfer.id),
      ),
    ).toEqual(appliedOneByOne(100n, amounts));
    // The failed attempt was logged as a retry by the job that carried it (a
    // partition's later adds may share that job).
    expect(records.some((record) => record.outcome === 'retry')).toBe(true);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(3));
  });

  it("counts in a failed run's log line the transfers its earlier batches settled", async () => {
    const { cfg, tenantId, bank, alice, bob, producer } = await batchesOfOne();
    // The run settles one transfer, then its second batch fails.
    let calls = 0;
    let failAt = 0;
    const { logger, records } = captureLogger();
    await workersFor(cfg, {
      logger,
      apply: async (db, partition, batchSize) => {
        calls++;
        if (calls === failAt) throw transientError();
        return applyPendingBatch(db, partition, batchSize);
      },
    });
    await fund(cfg, producer, tenantId, bank, alice, 100n);
    // The funding run ends once it has looked for more for APPLY_IDLE_MS.
    for (let seen = -1; seen !== calls; ) {
      seen = calls;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: alice, destination: bob, amount: 10n },
      { source: alice, destination: bob, amount: 20n },
    ]);
    failAt = calls + 2;
    await enqueueAll(producer.queues, transfers.slice(0, 1));
    await waitForFinal(sql, tenantId);

    const retry = records.find((record) => record.outcome === 'retry');
    expect(retry?.applied).toBe(1);
    // Every transfer settled is counted once, by the lines of the runs that
    // settled it; the last run's line comes once it has looked for more.
    const counted = () =>
      records
        .filter((record) => record.msg === 'transfer job')
        .reduce((sum, record) => sum + Number(record.applied ?? 0), 0);
    await waitUntil('every run has logged its line', async () => counted() >= 3);
    expect(counted()).toBe(3);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(3));
  });

  it('matches one-by-one application for many sources, shuffled jobs and faults', async () => {
    // The two sets share the partitions, so the faulty one must finish its
    // own through its retries, whose waits double from attempt to attempt:
    // capped low here, so that they do not outlast the test.
    const cfg = config({ APPLY_BATCH_SIZE: '3', JOB_BACKOFF_MAX_MS: '200' });
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
    const sources = await createAccounts(sql, tenantId, 8);
    const sinks = await createAccounts(sql, tenantId, 3);
    const producer = producerFor(cfg);
    let calls = 0;
    await workersFor(cfg, {
      apply: async (db, partition, batchSize) => {
        calls++;
        if (calls % 3 === 0) throw transientError();
        return applyPendingBatch(db, partition, batchSize);
      },
    });
    await workersFor(cfg);
    const funding = sources.map((_, index) => BigInt(100 + index * 10));
    await Promise.all(
      sources.map((source, index) =>
        fund(cfg, producer, tenantId, bank, source, funding[index] ?? 0n),
      ),
    );

    const plan = sources.map(() => Array.from({ length: 15 }, () => BigInt(1 + randomInt(40))));
    const specs = plan.flatMap((amounts, index) =>
      amounts.map((amount, step) => ({
        source: sources[index] ?? '',
        destination: sinks[(index + step) % sinks.length] ?? '',
        amount,
      })),
    );
    const interleaved = interleave(specs, sources);
    const transfers = await insertPendingTransfers(sql, cfg, tenantId, interleaved);
    await enqueueAll(producer.queues, shuffle(transfers));
    await waitForFinal(sql, tenantId, 20_000);

    for (const [index, source] of sources.entries()) {
      const mine = transfers.filter((_, position) => interleaved[position]?.source === source);
      const amounts = interleaved
        .filter((spec) => spec.source === source)
        .map((spec) => BigInt(spec.amount));
      expect(
        await statuses(
          sql,
          mine.map((transfer) => transfer.id),
        ),
      ).toEqual(appliedOneByOne(funding[index] ?? 0n, amounts));
    }
    const posted = (await statusCounts(sql, tenantId)).posted;
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(posted));
  });

  it('fails a transfer from or to a closed account with account_closed', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const open = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const closed = await createAccount(sql, tenantId, { closed: true });
    const producer = producerFor(cfg);
    await workersFor(cfg);
    const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: open, destination: closed, amount: 5n },
      { source: closed, destination: open, amount: 5n },
    ]);
    await enqueueAll(producer.queues, transfers);
    await waitForFinal(sql, tenantId);

    expect(
      await statuses(
        sql,
        transfers.map((transfer) => transfer.id),
      ),
    ).toEqual(['failed:account_closed', 'failed:account_closed']);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(0));
  });
});

describe('settled events', () => {
  it('writes each outcome to the outbox as the transfer the API shows', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 100n });
    const alice = await createAccount(sql, tenantId);
    const metadata = { order_id: 'A-1', nested_key: { inner_key: 1 } };
    const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: bank, destination: alice, amount: 60n, metadata },
      { source: bank, destination: alice, amount: 60n },
    ]);
    await applyPendingBatch(sql, transfers[0]?.partition ?? 0, 100);

    await sequenceEvents(sql);
    const events = await sql<{ type: string; dataJson: string }[]>`
      select e.type, e.data::text as data_json
      from events e join event_numbers n on n.event_id = e.id
      where e.tenant_id = ${tenantId} and e.type like 'transfer.%' order by n.seq`;
    const [posted, failed] = events.map((event) => ({
      type: event.type,
      data: JSON.parse(event.dataJson) as Record<string, unknown>,
    }));
    expect(posted?.type).toBe('transfer.posted');
    expect(posted?.data).toMatchObject({
      id: transfers[0]?.id,
      object: 'transfer',
      status: 'posted',
      amount: 60,
      metadata,
      failure_code: null,
      failed_at: null,
    });
    expect(typeof posted?.data.posted_at).toBe('string');
    expect(failed?.type).toBe('transfer.failed');
    expect(failed?.data).toMatchObject({
      id: transfers[1]?.id,
      status: 'failed',
      failure_code: 'insufficient_funds',
      posted_at: null,
    });

    // Field for field, each event is the transfer as it now reads from the
    // database, settlement times included.
    for (const [index, transfer] of transfers.entries()) {
      const stored = await findTransfer(sql, tenantId, transfer.id);
      if (!stored) throw new Error(`transfer ${transfer.id} is gone`);
      expect([posted, failed][index]?.data).toEqual(transferView(stored));
    }
    // Its entries carry the moment the transfer posted, never an earlier one.
    const entries = await sql<{ createdAt: Date; postedAt: Date }[]>`
      select e.created_at, t.posted_at from entries e join transfers t on t.id = e.transfer_id
      where t.id = ${transfers[0]?.id ?? ''}`;
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry.createdAt).toEqual(entry.postedAt);
  });
});

describe('idempotent apply', () => {
  async function oneTransfer(cfg: Config): Promise<{ tenantId: string; transfer: PendingFixture }> {
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(sql, tenantId);
    const [transfer] = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: bank, destination: alice, amount: 10n },
    ]);
    if (!transfer) throw new Error('no transfer');
    return { tenantId, transfer };
  }

  it('applies a transfer once when its job is added twice, and again after it ran', async () => {
    const cfg = config();
    const producer = producerFor(cfg);
    const { tenantId, transfer } = await oneTransfer(cfg);
    await enqueueAll(producer.queues, [transfer, transfer]);
    expect(await producer.queues.queue(transfer.partition).getJobCounts('wait')).toEqual({
      wait: 1,
    });

    const { logger, records } = captureLogger();
    await workersFor(cfg, { logger });
    await waitForFinal(sql, tenantId);
    await waitUntil('the job was removed', async () => {
      return (await producer.queues.queue(transfer.partition).getJob(transfer.id)) === undefined;
    });
    await enqueueAll(producer.queues, [transfer]);
    await waitUntil('the re-added job ran', async () =>
      records.some((record) => record.outcome === 'already_final'),
    );

    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(1));
  });

  it('settles nothing when the same partition is applied again', async () => {
    const cfg = config();
    const { tenantId, transfer } = await oneTransfer(cfg);
    const first = await applyPendingBatch(sql, transfer.partition, 100);
    const second = await applyPendingBatch(sql, transfer.partition, 100);

    expect(first.settled.map((settled) => settled.id)).toContain(transfer.id);
    expect(second.settled.map((settled) => settled.id)).not.toContain(transfer.id);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(1));
  });

  it('writes nothing of a settlement finding one of its transfers no longer pending', async () => {
    const cfg = config();
    const { transfer } = await oneTransfer(cfg);
    const failed = { status: 'failed' as const, failureCode: 'insufficient_funds' as const };
    // The statement carries its own check, since its COMMIT is sent with it.
    await expect(
      sql.begin((tx) =>
        writeSettlement(tx, {
          entries: [],
          balances: [],
          events: [],
          outcomes: [
            { transferId: transfer.id, ...failed },
            { transferId: 'tr_settled_elsewhere', ...failed },
          ],
          settledAt: new Date(),
        }),
      ),
    ).rejects.toThrow('settled 1 of 2 locked transfers');
    expect(await statuses(sql, [transfer.id])).toEqual(['pending']);
  });

  it('settles each transfer once when many appliers run the same partition at once', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
    const others = await createAccounts(sql, tenantId, 5);
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 60 }, (_, index) => ({
        source: bank,
        destination: others[index % others.length] ?? '',
        amount: 3n,
      })),
    );
    const partition = transfers[0]?.partition ?? 0;
    const pools = [connect(cfg), connect(cfg), connect(cfg)];
    scratch.track(async () => {
      await Promise.all(pools.map((pool) => pool.end({ timeout: 5 })));
    });

    const results = await Promise.all(
      pools.flatMap((pool) => [
        applyPendingBatch(pool, partition, 25),
        applyPendingBatch(pool, partition, 25),
      ]),
    );

    const settledIds = results.flatMap((result) => result.settled.map((settled) => settled.id));
    const ours = settledIds.filter((id) => transfers.some((transfer) => transfer.id === id));
    expect(new Set(ours).size).toBe(ours.length);
    expect(ours).toHaveLength(60);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(60));
  });
});

describe('shutdown', () => {
  it('stops after the batch in hand; the next worker takes the rest of a backlog', async () => {
    const cfg = config({ APPLY_BATCH_SIZE: '1' });
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000_000n });
    const alice = await createAccount(sql, tenantId);
    const producer = producerFor(cfg);
    const transfers = await insertPendingTransfers(
      sql,
      cfg,
      tenantId,
      Array.from({ length: 120 }, () => ({ source: bank, destination: alice, amount: 1n })),
    );
    const last = transfers.at(-1);
    if (!last) throw new Error('no transfers');
    // One job whose transfer is last: its run has to walk the whole backlog.
    await enqueueAll(producer.queues, [last]);
    const first = await startInProcessWorkers(cfg, { sweeper: false });
    await waitUntil('the backlog is being applied', async () => {
      return (await statusCounts(sql, tenantId)).posted >= 20;
    });

    const closing = performance.now();
    await first.close();
    const closeMs = performance.now() - closing;
    const atClose = await statusCounts(sql, tenantId);
    expect(atClose.pending).toBeGreaterThan(0);
    expect(closeMs).toBeLessThan(2_000);
    const state = await producer.queues.queue(last.partition).getJob(last.id);
    expect(await state?.getState()).toMatch(/^(delayed|waiting)$/);

    await workersFor(cfg);
    await waitForFinal(sql, tenantId);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(120));
  });
});

describe('transient faults', () => {
  it('keeps a transfer pending when its DB connection dies mid-apply, then posts it', async () => {
    const cfg = config();
    const tenantId = await newTenant(sql);
    const bank = await createAccount(sql, tenantId, { overdraftLimit: 1_000n });
    const alice = await createAccount(sql, tenantId);
    const producer = producerFor(cfg);
    const { logger, records } = captureLogger();
    const set = await workersFor(cfg, { logger });

    // Hold the destination row as an apply transaction would, so that the
    // worker's apply waits inside its transaction; acceptance is not blocked.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holderPid = 0;
    const holder = sql.begin(async (tx) => {
      const [me] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      holderPid = me?.pid ?? 0;
      await tx`select id from accounts where id = ${alice} for no key update`;
      await released;
    });
    await waitUntil('the lock is held', async () => holderPid !== 0);

    const transfers = await insertPendingTransfers(sql, cfg, tenantId, [
      { source: bank, destination: alice, amount: 10n },
    ]);
    await enqueueAll(producer.queues, transfers);
    let victim = 0;
    await waitUntil('the apply transaction waits on the held row', async () => {
      const [row] = await sql<{ pid: number }[]>`
        select pid from pg_stat_activity
        where application_name = ${set.application}
          and ${holderPid}::int = any(pg_blocking_pids(pid))`;
      victim = row?.pid ?? 0;
      return victim !== 0;
    });
    await sql`select pg_terminate_backend(${victim}::int)`;
    await waitUntil('the worker saw the fault', async () =>
      records.some((record) => record.outcome === 'retry'),
    );

    expect(
      await statuses(
        sql,
        transfers.map((transfer) => transfer.id),
      ),
    ).toEqual(['pending']);
    release();
    await holder;
    await waitForFinal(sql, tenantId);

    expect(
      await statuses(
        sql,
        transfers.map((transfer) => transfer.id),
      ),
    ).toEqual(['posted']);
    expect(await ledgerReport(sql, tenantId)).toEqual(healthyLedger(1));
  });
});

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let index = out.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    const a = out[index];
    const b = out[other];
    if (a === undefined || b === undefined) continue;
    out[index] = b;
    out[other] = a;
  }
  return out;
}

/** Mixes the sources' transfers while keeping each source's own order. */
function interleave<T extends { source: string }>(specs: T[], sources: string[]): T[] {
  const queues = sources.map((source) => specs.filter((spec) => spec.source === source));
  const out: T[] = [];
  while (queues.some((queue) => queue.length > 0)) {
    const live = queues.filter((queue) => queue.length > 0);
    const next = live[randomInt(live.length)]?.shift();
    if (next) out.push(next);
  }
  return out;
}
