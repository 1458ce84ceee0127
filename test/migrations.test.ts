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
    await dropDatabase(scratchUrl);
    const before = await mkdtemp(join(tmpdir(), 'migrations-'));
    const sql = postgres(scratchUrl, { max: 1, onnotice: () => {} });
    try {
      const files = (await readdir(MIGRATIONS_DIR)).filter((name) => name < '0008');
      for (const name of files) await cp(join(MIGRATIONS_DIR, name), join(before, name));
      await migrate(scratchUrl, before);
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
      await rm(before, { recursive: true, force: true });
    }
  });
});
