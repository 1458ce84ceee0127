import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase, migrate } from '../src/db/migrate.js';
import { TEST_DATABASE_URL } from './support/env.js';

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
});
