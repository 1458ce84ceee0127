import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Db, withTwoStatements } from '../../src/db/sql.js';
import { createAcceptancePool } from '../../src/services/transfers.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const pool = createSql(config, { max: 1 });
const acceptPool = createAcceptancePool(config);
const twoPool = createSql(config, { max: 2, application: 'two-statement-test' });
afterAll(() => Promise.all([pool.end(), acceptPool.end(), twoPool.end()]));

describe('connection settings', () => {
  it('has PostgreSQL end a session left idle inside a transaction', async () => {
    const [row] = await pool<{ timeout: string }[]>`
      select current_setting('idle_in_transaction_session_timeout') as timeout`;
    expect(row?.timeout).toBe('10s');
  });

  it('lets acceptance statements wait for a lock only briefly', async () => {
    const [row] = await acceptPool<{ timeout: string }[]>`
      select current_setting('lock_timeout') as timeout`;
    expect(row?.timeout).toBe('100ms');
  });
});

describe('transactions of two statements in two round trips', () => {
  const suffix = randomBytes(4).toString('hex');
  const table = `two_step_${suffix}`;
  const raise = `raise_${suffix}`;
  beforeAll(async () => {
    await twoPool.unsafe(`create table ${table} (id int primary key, note text)`);
    // Fails with the SQLSTATE given, as PostgreSQL fails a deadlock's victim.
    await twoPool.unsafe(`create function ${raise}(code text) returns boolean
      language plpgsql as $$ begin raise exception 'simulated' using errcode = code; end $$`);
    return async () => {
      await twoPool.unsafe(`drop table ${table}`);
      await twoPool.unsafe(`drop function ${raise}(text)`);
    };
  });

  const ids = async () =>
    (await twoPool<{ id: number }[]>`select id from ${twoPool(table)} order by id`).map(
      (row) => row.id,
    );

  it('holds what the first statement locked until the second commits with it', async () => {
    const lock = 880_001;
    const result = await withTwoStatements(
      twoPool,
      (db) => db`
        select pg_advisory_xact_lock(${lock}::int8) is not null as locked,
          txid_current()::text as txid`,
      (_first, db) => db`
        insert into ${db(table)} (id, note) values (1, 'written')
        returning txid_current()::text as txid,
          (select count(*) from pg_locks where locktype = 'advisory'
            and pid = pg_backend_pid() and objid = ${lock}) as held`,
    );
    // One transaction, still holding the first statement's lock.
    expect(result.second?.[0]?.txid).toBe(result.first[0]?.txid);
    expect(result.second?.[0]?.held).toBe(1n);
    expect(await ids()).toEqual([1]);
    // Committed: the lock is free for anyone.
    const [free] = await twoPool<{ taken: boolean }[]>`
      select pg_try_advisory_lock(${lock}::int8) as taken`;
    expect(free?.taken).toBe(true);
    await twoPool`select pg_advisory_unlock(${lock}::int8)`;
  });

  it('sends its statements without a postgres.js batch', async () => {
    // A batch keeps nearly all it allocates alive past the young collections
    // of the heap (postgres.js 4.2), which cost the worker a full collection
    // every few seconds; statements issued together pipeline just as well.
    let batches = 0;
    const reserve = twoPool.reserve.bind(twoPool);
    const watched = Object.create(twoPool) as typeof twoPool;
    // withTwoStatements only awaits the lease; its cancel() and signal() go unused.
    watched.reserve = (async () => {
      const db = await reserve();
      const batch = db.batch.bind(db);
      db.batch = ((...args: Parameters<typeof batch>) => {
        batches += 1;
        return batch(...args);
      }) as typeof batch;
      return db;
    }) as unknown as typeof twoPool.reserve;
    const result = await withTwoStatements(
      watched,
      (db) => db`select 1 as one`,
      (_first, db) => db`insert into ${db(table)} (id, note) values (5, 'piped') returning id`,
    );
    expect(result.second?.[0]?.id).toBe(5);
    expect(batches).toBe(0);
    await twoPool`delete from ${twoPool(table)} where id = 5`;
  });

  it('rolls back the first statement when the second fails its own check', async () => {
    await expect(
      withTwoStatements(
        twoPool,
        (db) => db`insert into ${db(table)} (id, note) values (2, 'first') returning id`,
        (_first, db) => db`select fail_unless(1 = 2, 'not what was decided') as checked`,
      ),
    ).rejects.toThrow('not what was decided');
    expect(await ids()).not.toContain(2);
  });

  it('ends the transaction when nothing is left to write, keeping what the first did', async () => {
    const result = await withTwoStatements(
      twoPool,
      (db) => db`insert into ${db(table)} (id, note) values (3, 'alone') returning id`,
      () => null,
    );
    expect(result.second).toBeNull();
    expect(await ids()).toContain(3);
    const [state] = await twoPool<{ open: bigint }[]>`
      select count(*) as open from pg_stat_activity
      where application_name = 'two-statement-test' and state like 'idle in transaction%'`;
    expect(state?.open).toBe(0n);
  });

  it('runs both statements again after a deadlock in the second', async () => {
    let attempts = 0;
    const result = await withTwoStatements(
      twoPool,
      (db) => db`insert into ${db(table)} (id, note) values (4, 'retried') returning id`,
      (_first, db) => {
        attempts += 1;
        return attempts === 1
          ? db`select ${db(raise)}('40P01') as checked`
          : db`select true as checked`;
      },
    );
    expect(attempts).toBe(2);
    expect(result.second?.[0]).toEqual({ checked: true });
    // The first attempt's insert was rolled back, or the second would have failed on the key.
    expect(await ids()).toContain(4);
  });

  it('does not run again after an error that is not a conflict', async () => {
    let attempts = 0;
    await expect(
      withTwoStatements(
        twoPool,
        (db) => db`select 1 as one`,
        (_first, db) => {
          attempts += 1;
          return db`select ${db(raise)}('22012') as checked`;
        },
      ),
    ).rejects.toThrow('simulated');
    expect(attempts).toBe(1);
  });

  it('sets its settings for the transaction alone, after a rollback too', async () => {
    const settings = { enable_seqscan: 'off', jit: 'off' };
    const onOneConnection = createSql(config, { max: 1, application: 'two-statement-settings' });
    const seen = (db: Db) => db<{ seqscan: string; jit: string }[]>`
      select current_setting('enable_seqscan') as seqscan, current_setting('jit') as jit`;
    try {
      const result = await withTwoStatements(onOneConnection, seen, () => null, { settings });
      expect(result.first[0]).toEqual({ seqscan: 'off', jit: 'off' });
      await expect(
        withTwoStatements(onOneConnection, seen, (_rows, db) => db`select ${db(raise)}('P0001')`, {
          settings,
        }),
      ).rejects.toThrow('simulated');
      const [after] = await seen(onOneConnection);
      expect(after?.seqscan).toBe('on');
      expect(after?.jit).not.toBe('off');
    } finally {
      await onOneConnection.end();
    }
  });
});
