import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase, ensureDatabase } from '../../src/db/migrate.js';
import { configEnv, TEST_DATABASE_URL, testConfig } from '../support/env.js';
import { type Child, startChild, stopChild, waitForLine } from '../support/processes.js';

const emptyUrl = `${TEST_DATABASE_URL}_unmigrated`;
const absentUrl = `${TEST_DATABASE_URL}_absent`;
const children: Child[] = [];

afterAll(async () => {
  await Promise.all(children.map((child) => stopChild(child, 2_000)));
  await dropDatabase(emptyUrl);
});

const ENTRIES = [
  ['web', 'src/server.ts', 'web failed to start'],
  ['worker', 'workers/transfers.ts', 'worker failed to start'],
  ['webhooks', 'workers/webhooks.ts', 'webhooks failed to start'],
] as const;

async function refusal(databaseUrl: string, entry: (typeof ENTRIES)[number]) {
  const [name, path, line] = entry;
  const child = startChild(name, path, {
    ...configEnv(testConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' })),
    PORT: '0',
    HOST: '127.0.0.1',
  });
  children.push(child);
  const code = await child.exited;
  await waitForLine(child, new RegExp(line), 5_000).catch(() => {});
  const log = await readFile(child.logPath, 'utf8');
  return { code, line: log.includes(line), names: /npm run migrate/.test(log) };
}

describe('a process started on a database that is not migrated', () => {
  it('exits 1, saying to migrate, when the database has no tables', async () => {
    await dropDatabase(emptyUrl);
    await ensureDatabase(emptyUrl);
    const answers = await Promise.all(ENTRIES.map((entry) => refusal(emptyUrl, entry)));
    expect(answers).toEqual(ENTRIES.map(() => ({ code: 1, line: true, names: true })));
  }, 60_000);

  it('exits 1 when the database does not exist', async () => {
    await dropDatabase(absentUrl);
    const answers = await Promise.all(ENTRIES.map((entry) => refusal(absentUrl, entry)));
    expect(answers).toEqual(ENTRIES.map(() => ({ code: 1, line: true, names: true })));
  }, 60_000);

  it('names the migrations the database lacks', async () => {
    const sql = postgres(emptyUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`create table if not exists schema_migrations (name text primary key)`;
      await sql`insert into schema_migrations values ('0001_core.sql') on conflict do nothing`;
    } finally {
      await sql.end();
    }
    const [, path] = ENTRIES[1];
    const child = startChild('worker', path, {
      ...configEnv(testConfig({ DATABASE_URL: emptyUrl, LOG_LEVEL: 'warn' })),
    });
    children.push(child);
    expect(await child.exited).toBe(1);
    await waitForLine(child, /worker failed to start/, 5_000);
    const log = await readFile(child.logPath, 'utf8');
    expect(log).toContain('0002_webhooks.sql');
    expect(log).not.toContain('0001_core.sql');
  }, 60_000);
});
