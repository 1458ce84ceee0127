import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase, MIGRATIONS_DIR, migrate } from '../src/db/migrate.js';
import { sequenceEvents } from '../src/services/event-sequencer.js';
import { TEST_DATABASE_URL, testConfig } from './support/env.js';
import { connect } from './worker/fixtures.js';

const scratchUrl = `${TEST_DATABASE_URL}_migrations`;

/** A new scratch database with the migrations named before `first` applied. */
async function migrateBefore(first: string): Promise<void> {
  await dropDatabase(scratchUrl);
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  try {
    const files = (await readdir(MIGRATIONS_DIR)).filter((name) => name < first);
    for (const name of files) await cp(join(MIGRATIONS_DIR, name), join(dir, name));
    await migrate(scratchUrl, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('migrations', () => {
  afterAll(() => dropDatabase(scratchUrl));

  it('creates a missing database, applies each file once, even when run concurrently', async () => {
    await dropDatabase(scratchUrl);
    const results = await Promise.all([
      migrate(scratchUrl),
      migrate(scratchUrl),
      migrate(scratchUrl),
    ]);
    const applied = results.flatMap((result) => result.applied);
    expect(applied.filter((name) => name === '0001_core.sql')).toHaveLength(1);
    expect(await migrate(scratchUrl)).toEqual({ created: false, applied: [] });
  });

  it('refuses to run when an applied migration was edited', async () => {
    await migrate(scratchUrl);
    const sql = postgres(scratchUrl, { max: 1, onnotice: () => {} });
    await sql`update schema_migrations set checksum = 'edited' where name = '0001_core.sql'`;
    await sql.end();
    await expect(migrate(scratchUrl)).rejects.toThrow(/edited after it was applied/);
  });

  it('keeps the numbers of events numbered before they moved to their own table', async () => {
    await migrateBefore('0008');
    const sql = postgres(scratchUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`insert into tenants (id, name, event_seq) values ('ten_a', 'a', 2)`;
      await sql`
        insert into events (id, tenant_id, seq, type, data) values
          ('evt_1', 'ten_a', 1, 'transfer.posted', '{}'),
          ('evt_2', 'ten_a', 2, 'transfer.failed', '{}'),
          ('evt_3', 'ten_a', null, 'transfer.posted', '{}')`;
      await sql`insert into event_sequencing (event_id, tenant_id) values ('evt_3', 'ten_a')`;

      expect((await migrate(scratchUrl)).applied).toContain('0008_event_numbers.sql');
      const appSql = connect(testConfig({ DATABASE_URL: scratchUrl }));
      await sequenceEvents(appSql).finally(() => appSql.end({ timeout: 5 }));
      const numbers = await sql`
        select event_id, seq::int as seq, type from event_numbers order by seq`;
      expect(numbers.map((row) => ({ ...row }))).toEqual([
        { event_id: 'evt_1', seq: 1, type: 'transfer.posted' },
        { event_id: 'evt_2', seq: 2, type: 'transfer.failed' },
        { event_id: 'evt_3', seq: 3, type: 'transfer.posted' },
      ]);
    } finally {
      await sql.end();
    }
  });

  it('queues every pending transfer when 0013 runs, one accepted meanwhile too', async () => {
    await migrateBefore('0013');
    const sql = postgres(scratchUrl, { max: 2, onnotice: () => {} });
    try {
      await sql`insert into tenants (id, name) values ('ten_a', 'a')`;
      await sql`
        insert into accounts (id, tenant_id, currency, overdraft_limit) values
          ('acc_1', 'ten_a', 'USD', 100), ('acc_2', 'ten_a', 'USD', 0)`;
      const transfer = (id: string) => sql`
        insert into transfers (id, tenant_id, source_account_id, destination_account_id,
          partition, amount, currency)
        values (${id}, 'ten_a', 'acc_1', 'acc_2', 3, 1, 'USD')`;
      await transfer('tr_before');
      await transfer('tr_posted');
      await sql`
        update transfers set status = 'posted', posted_at = now() where id = 'tr_posted'`;

      // A transfer accepted while the migration runs, committed after it began.
      const accepting = await sql.reserve();
      await accepting`begin`;
      await accepting`
        insert into transfers (id, tenant_id, source_account_id, destination_account_id,
          partition, amount, currency)
        values ('tr_during', 'ten_a', 'acc_1', 'acc_2', 3, 1, 'USD')`;
      const migrating = migrate(scratchUrl);
      const waitsForLock = async () => {
        for (let tries = 0; tries < 200; tries += 1) {
          const [row] = await sql<{ waiting: boolean }[]>`
            select exists (select 1 from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock') as waiting`;
          if (row?.waiting) return;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error('the migration never waited for the open transaction');
      };
      await waitsForLock();
      await accepting`commit`;
      accepting.release();
      expect((await migrating).applied).toContain('0013_pending_queue_table.sql');

      const queued = await sql<{ transfer_id: string }[]>`
        select transfer_id from pending_transfers order by seq`;
      expect(queued.map((row) => row.transfer_id)).toEqual(['tr_before', 'tr_during']);
    } finally {
      await sql.end();
    }
  });
});
