import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Sql } from '../../src/db/sql.js';
import type { Redis } from '../../src/redis/connection.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import {
  PartitionOwners,
  partitionsAside,
  partitionsOwned,
} from '../../src/worker/partition-owners.js';
import { FAILED_RUNS_TO_STAND_ASIDE } from '../../src/worker/stand-aside.js';
import { gate } from '../support/gate.js';
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
} from './fixtures.js';
import { type InProcessWorkers, silentLogger, useWorkerDatabase } from './support.js';

const db = useWorkerDatabase();

/** An error as a pool cut off from PostgreSQL gives. */
function outage(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 (injected)'), {
    code: 'ECONNREFUSED',
  });
}

/**
 * A Redis whose membership renewals answer `others()` (default: one other
 * member), with this process among them when it joins, and that fails them
 * while `down()`; `joins` records each renewal's join flag.
 */
function fakeMembership(
  options: { others?: () => string[]; down?: () => boolean; joins?: string[] } = {},
): Redis {
  return {
    eval: async (_script: string, _keys: number, _key: string, self: string, ...args: string[]) => {
      if (options.down?.()) throw new Error('Redis timed out (injected)');
      options.joins?.push(args[1] ?? '');
      const others = options.others?.() ?? ['other'];
      return args[1] === '1' ? [...others, self] : others;
    },
    zrem: async () => 1,
  } as unknown as Redis;
}

/** Options of a membership of four partitions with a lease of 50 ms, for unit tests. */
const SHORT_LEASE = {
  prefix: 'p',
  partitions: 4,
  leaseMs: 50,
  logger: silentLogger,
  onChange: () => undefined,
};

/** The partitions of four that a set owns now. */
function owned(set: InProcessWorkers): number[] {
  return [0, 1, 2, 3].filter((partition) => set.workers.owns(partition));
}

/** 400 pending transfers of a new tenant over 40 accounts: the i-th pays account `to(i)`. */
async function backlog(config: Config, to: (i: number) => number) {
  const tenantId = await newTenant(db.sql);
  const accounts = await createAccounts(db.sql, tenantId, 40, 10n ** 6n);
  const specs = Array.from({ length: 400 }, (_, i) => ({
    source: accounts[i % 40] ?? '',
    destination: accounts[to(i) % 40] ?? '',
    amount: 1n,
  })).filter((spec) => spec.source !== spec.destination);
  const transfers = await insertPendingTransfers(db.sql, config, tenantId, specs);
  return { tenantId, accounts, transfers };
}

describe('dividing the partitions among worker processes', () => {
  it('gives each partition to exactly one member, a share of 1/n each', () => {
    const members = ['c', 'a', 'b'];
    const shares = members.map((self) => partitionsOwned(members, self, 16));
    expect(shares.flat().sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
    expect(shares.map((share) => share.length).sort()).toEqual([5, 5, 6]);
    // The same members in another order divide the same way.
    expect(partitionsOwned(['b', 'c', 'a'], 'a', 16)).toEqual(shares[1]);
    // A process not yet among the members takes everything.
    expect(partitionsOwned(['a'], 'z', 4)).toEqual([0, 1, 2, 3]);
    // One standing aside takes nothing while another is a member, and
    // everything when none is.
    expect(partitionsAside(['a', 'z'], 'z', 4)).toEqual([]);
    expect(partitionsAside(['z'], 'z', 4)).toEqual([0, 1, 2, 3]);
    expect(partitionsAside([], 'z', 4)).toEqual([0, 1, 2, 3]);
  });

  // With Redis not answering, a stopping worker must not wait for it to
  // leave the members: its membership lapses instead.
  it('leaves the members on stop only when asked to', async () => {
    const left: string[] = [];
    const redis = {
      eval: async () => [],
      zrem: async (_key: string, member: string) => {
        left.push(member);
        return 1;
      },
    } as unknown as Redis;
    const options = { redis, prefix: 'p', partitions: 4, leaseMs: 60_000, logger: silentLogger };
    const staying = new PartitionOwners({ ...options, onChange: () => undefined });
    await staying.start();
    await staying.stop({ leave: false });
    const leaving = new PartitionOwners({ ...options, onChange: () => undefined });
    await leaving.start();
    await leaving.stop({ leave: true });
    expect(left).toEqual([leaving.self]);
  });

  // A process whose runs keep failing for an outage stands aside, but one
  // fault shared by several runs at once, or a failure that is not an
  // outage, must not move its partitions. Aside, it must take nothing while
  // another process is a member, even when Redis fails it, and rejoin only
  // when its probe answers (its database reachable again) or a run succeeds,
  // counting failures afresh after it rejoins.
  it('stands aside after outages over a lease, and rejoins when its probe answers', async () => {
    const joins: string[] = [];
    let redisDown = false;
    let others = ['other'];
    const redis = fakeMembership({
      others: () => others,
      down: () => redisDown,
      joins,
    });
    let answers = false;
    let probes = 0;
    const owners = new PartitionOwners({
      ...SHORT_LEASE,
      redis,
      probe: async () => {
        probes += 1;
        if (!answers) throw outage();
      },
    });
    const share = () => [0, 1, 2, 3].filter((partition) => owners.owns(partition));
    const failRuns = (count: number, error: Error = outage()) => {
      for (let run = 0; run < count; run += 1) owners.runFailed(error);
    };
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await owners.start();
    const joined = share();
    expect(joined).toHaveLength(2);

    const bug = new Error('a bug (injected)');
    failRuns(FAILED_RUNS_TO_STAND_ASIDE, bug);
    await pause(60);
    failRuns(1, bug);
    expect(owners.standingAside).toBe(false);
    failRuns(FAILED_RUNS_TO_STAND_ASIDE);
    expect(owners.standingAside).toBe(false);
    await pause(60);
    failRuns(1);
    expect(owners.standingAside).toBe(true);
    await waitUntil('it leaves the members', async () => share().length === 0);
    redisDown = true;
    await pause(30);
    expect(share()).toEqual([]);
    redisDown = false;
    // Six times its first time aside (100 ms), with its probe failing: it
    // asks again after each time aside, not after longer and longer ones.
    probes = 0;
    await pause(600);
    expect(probes).toBeGreaterThanOrEqual(4);
    expect(owners.standingAside).toBe(true);
    expect(joins.at(-1)).toBe('0');
    answers = true;
    await waitUntil('it rejoins', async () => share().length === 2);
    expect(share()).toEqual(joined);

    failRuns(FAILED_RUNS_TO_STAND_ASIDE - 1);
    await pause(60);
    expect(owners.standingAside).toBe(false);
    failRuns(1);
    await waitUntil('it leaves again', async () => share().length === 0);
    owners.runSucceeded();
    expect(owners.standingAside).toBe(false);
    await waitUntil('it rejoins after the run', async () => share().length === 2);

    // With no other member (every process stood aside, say), it takes every
    // partition and rejoins as soon as its probe answers.
    others = [];
    answers = false;
    failRuns(FAILED_RUNS_TO_STAND_ASIDE);
    await pause(60);
    failRuns(1);
    expect(owners.standingAside).toBe(true);
    await waitUntil('alone, it takes every partition', async () => share().length === 4);
    // Alone, it asks the probe at every renewal, well within its time aside.
    answers = true;
    await pause(60);
    expect(owners.standingAside).toBe(false);
    await owners.stop({ leave: true });
  });

  // A run that succeeds while the probe is out decides: the probe's late
  // failure must not put the process aside again.
  it('keeps the outcome of a run that ends while its probe is out', async () => {
    const redis = fakeMembership();
    let probing = false;
    const owners = new PartitionOwners({
      ...SHORT_LEASE,
      redis,
      // Never answers: it fails when the lease runs out.
      probe: () => {
        probing = true;
        return new Promise(() => undefined);
      },
    });
    await owners.start();
    owners.runFailed(outage());
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (let run = 1; run < FAILED_RUNS_TO_STAND_ASIDE; run += 1) owners.runFailed(outage());
    expect(owners.standingAside).toBe(true);
    await waitUntil('its probe is out', async () => probing);
    owners.runSucceeded();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(owners.standingAside).toBe(false);
    expect([0, 1, 2, 3].filter((partition) => owners.owns(partition))).toHaveLength(2);
    await owners.stop({ leave: true });
  });

  // Left to BullMQ, the set started first keeps every partition: it takes
  // each queue's next job when it finishes one. Here the two sets must share
  // the backlog, each applying only the partitions it owns, and the one
  // left takes every partition once the other stops. A queue worker paused
  // while it waited for a job may still take one, which its run hands on
  // at once; more than that would mean that pausing did not hold.
  it('shares a backlog between two sets, and gives all to the one left', async () => {
    const config = db.config({ PARTITIONS: '4' });
    const producer = db.producerFor(config);
    const applied = [new Set<number>(), new Set<number>()];
    const logs = [captureLogger(), captureLogger()];
    const sets: InProcessWorkers[] = [];
    for (const [index, seen] of applied.entries()) {
      sets.push(
        await db.workersFor(config, {
          sweeper: false,
          logger: logs[index]?.logger,
          apply: async (sql, partition, batchSize) => {
            const result = await applyPendingBatch(sql, partition, batchSize);
            if (result.settled.length > 0) seen.add(partition);
            return result;
          },
        }),
      );
    }
    await waitUntil('each set owns two partitions', async () =>
      sets.every((set) => owned(set).length === 2),
    );
    expect(
      [...owned(sets[0] as InProcessWorkers), ...owned(sets[1] as InProcessWorkers)].sort(),
    ).toEqual([0, 1, 2, 3]);

    const { tenantId, accounts, transfers } = await backlog(config, (i) => i * 7 + 3);
    expect(new Set(transfers.map((t) => t.partition)).size).toBe(4);
    await enqueueAll(producer.queues, transfers);
    expect((await waitForFinal(db.sql, tenantId)).pending).toBe(0);
    expect(applied.map((seen) => [...seen].sort())).toEqual(sets.map((set) => owned(set)));
    const handedOn = logs.flatMap(({ records }) =>
      records.filter((r) => r.msg === 'transfer job' && r.outcome === 'handed_on'),
    );
    expect(handedOn.length).toBeLessThanOrEqual(2);
    expect(handedOn.every((r) => r.applied === 0)).toBe(true);

    const [gone, left] = sets as [InProcessWorkers, InProcessWorkers];
    await gone.close();
    await waitUntil('the set left owns every partition', async () => owned(left).length === 4);
    const more = await insertPendingTransfers(
      db.sql,
      config,
      tenantId,
      accounts.slice(0, 20).map((source, i) => ({
        source,
        destination: accounts[20 + i] ?? '',
        amount: 1n,
      })),
    );
    await enqueueAll(producer.queues, more);
    expect((await waitForFinal(db.sql, tenantId)).pending).toBe(0);
    expect(await ledgerReport(db.sql, tenantId)).toEqual(healthyLedger(transfers.length + 20));
  });

  // A set alone takes every partition and drains a backlog in full batches.
  // When a second set joins, the runs of the partitions it now owns must
  // stop after the batch in hand and put their jobs back, with no attempt
  // spent, for the new set to finish.
  it('hands the runs of partitions it lost to the set that joined', async () => {
    const config = db.config({ PARTITIONS: '4', APPLY_BATCH_SIZE: '5' });
    const producer = db.producerFor(config);
    const { tenantId, transfers } = await backlog(config, (i) => i + 1);
    // The first set's runs of every partition wait inside their first batch
    // until the second set has its share.
    const joinedIn = gate();
    const first = new Set<number>();
    const { logger, records } = captureLogger();
    const alone = await db.workersFor(config, {
      sweeper: false,
      logger,
      apply: async (sql: Sql, partition: number, size: number) => {
        first.add(partition);
        await joinedIn.opened;
        return applyPendingBatch(sql, partition, size);
      },
    });
    await enqueueAll(producer.queues, transfers);
    await waitUntil('the first set runs every partition', async () => first.size === 4);

    const second = new Set<number>();
    const joinedLog = captureLogger();
    const joined = await db.workersFor(config, {
      sweeper: false,
      logger: joinedLog.logger,
      apply: async (sql: Sql, partition: number, size: number) => {
        second.add(partition);
        return applyPendingBatch(sql, partition, size);
      },
    });
    await waitUntil('the sets own two partitions each', async () =>
      [alone, joined].every((set) => owned(set).length === 2),
    );
    joinedIn.open();
    expect((await waitForFinal(db.sql, tenantId, 30_000)).pending).toBe(0);
    const lost = owned(joined);
    expect([...second].sort()).toEqual(lost);
    const handedOn = records.filter((r) => r.msg === 'transfer job' && r.outcome === 'handed_on');
    expect(handedOn.map((r) => r.partition).sort()).toEqual(lost);
    // The jobs handed on ran as their first attempt again where they went
    // (a run's line is written when it ends, after its idle looks).
    const taken = () => joinedLog.records.filter((r) => r.msg === 'transfer job');
    await waitUntil('the second set logged its runs', async () => taken().length >= lost.length);
    expect(taken().every((r) => r.attempt === 1)).toBe(true);
    expect(await ledgerReport(db.sql, tenantId)).toEqual(healthyLedger(transfers.length));
  });

  // A set whose apply step keeps failing while PostgreSQL answers the other
  // (its own pool refused, say) would keep its half of the partitions, and
  // their transfers would wait through its retries for as long as it fails.
  // It must stand aside so that the other set drains the whole backlog, and
  // rejoin once it can apply again.
  it('gives the partitions of a set whose runs keep failing to the others', async () => {
    const config = db.config({
      PARTITIONS: '4',
      JOB_BACKOFF_MS: '50',
      JOB_BACKOFF_MAX_MS: '200',
    });
    const producer = db.producerFor(config);
    let broken = true;
    const sickLog = captureLogger();
    const sick = await db.workersFor(config, {
      sweeper: false,
      logger: sickLog.logger,
      apply: async (sql: Sql, partition: number, size: number) => {
        if (broken) throw outage();
        return applyPendingBatch(sql, partition, size);
      },
      probe: async () => {
        if (broken) throw outage();
      },
    });
    const well = await db.workersFor(config, { sweeper: false });
    await waitUntil('each set owns two partitions', async () =>
      [sick, well].every((set) => owned(set).length === 2),
    );

    const { tenantId, transfers } = await backlog(config, (i) => i * 7 + 3);
    await enqueueAll(producer.queues, transfers);
    expect((await waitForFinal(db.sql, tenantId, 30_000)).pending).toBe(0);
    expect(await ledgerReport(db.sql, tenantId)).toEqual(healthyLedger(transfers.length));
    expect(owned(sick)).toEqual([]);
    expect(owned(well)).toEqual([0, 1, 2, 3]);
    const aside = sickLog.records.filter((r) => String(r.msg).startsWith('runs keep failing'));
    expect(aside.length).toBe(1);

    // Its probe still fails: it stays aside past its first time aside.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(owned(sick)).toEqual([]);
    broken = false;
    await waitUntil('the set that stood aside rejoins', async () => owned(sick).length === 2);
    expect(sickLog.records.some((r) => String(r.msg).startsWith('PostgreSQL answers'))).toBe(true);
  });
});
