import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { describeMachine, machineLine } from '../../src/bench/machine.js';
import { countWalFiles, walDirectoryLine } from '../../src/bench/wal-segments.js';
import { readWritebackSettings } from '../../src/bench/writeback.js';
import { createSql } from '../../src/db/sql.js';
import { createRedis } from '../../src/redis/connection.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const sql = createSql(config, { max: 1 });
const redis = createRedis(config);
afterAll(async () => {
  await sql.end();
  redis.disconnect();
});

describe("the run's view of PostgreSQL's WAL", () => {
  it('reads the WAL settings and how many segment files the directory holds', async () => {
    const [expected] = await sql<{ room: number; files: number; min: string; max: string }[]>`
      select (select setting::bigint * 1024 * 1024 from pg_settings where name = 'max_wal_size')
          / (select setting::bigint from pg_settings where name = 'wal_segment_size') as room,
        (select count(*)::int from pg_ls_waldir()) as files,
        current_setting('min_wal_size') as min, current_setting('max_wal_size') as max`;
    const machine = await describeMachine(sql, redis);
    expect(machine.wal.room).toBe(Number(expected?.room));
    expect(machine.wal.room).toBeGreaterThan(0);
    // Files come and go with the other test files' commits; the count is of the same moment.
    expect(machine.wal.files).toBeGreaterThan(0);
    expect(Math.abs((machine.wal.files ?? 0) - (expected?.files ?? 0))).toBeLessThan(8);
    expect(machine.writeback).toEqual(await readWritebackSettings());
    expect(machine.writeback).toBeDefined();
    expect(machineLine(machine)).toContain(
      `min_wal_size ${expected?.min} and max_wal_size ${expected?.max}`,
    );
  });

  it('answers no count, not an error, for a role that may not list the directory', async () => {
    const role = `fctest_nowal_${randomBytes(4).toString('hex')}`;
    await sql.unsafe(`create role ${role} login`);
    const url = new URL(config.DATABASE_URL);
    url.username = role;
    const limited = createSql({ ...config, DATABASE_URL: url.href }, { max: 1 });
    try {
      expect(await countWalFiles(limited)).toBeUndefined();
    } finally {
      await limited.end();
      await sql.unsafe(`drop role ${role}`);
    }
  });

  it('says when the directory holds fewer files than max_wal_size allows', () => {
    expect(walDirectoryLine({ files: undefined, room: 64 })).toBeUndefined();
    expect(walDirectoryLine({ files: 64, room: 64 })).toBe(
      "PostgreSQL's WAL directory holds 64 segment files; max_wal_size allows 64",
    );
    expect(walDirectoryLine({ files: 5, room: 64 })).toBe(
      "PostgreSQL's WAL directory holds 5 segment files; max_wal_size allows 64: the load runs " +
        'may create files, and commits can wait while one is written (each run counts them); ' +
        'a min_wal_size as large as max_wal_size keeps them',
    );
  });
});
