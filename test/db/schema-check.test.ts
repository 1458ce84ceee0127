import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMigrations } from '../../src/db/schema-check.js';
import type { Sql } from '../../src/db/sql.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'schema-check-'));
  await writeFile(join(dir, '0001_a.sql'), '');
  await writeFile(join(dir, '0002_b.sql'), '');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const TIMING = { timeoutMs: 50, retryMs: 10 };

/** A pool whose n-th query answers as `answers[n]` says, after its delay. */
function fakeSql(answers: { afterMs: number; rows?: string[]; code?: string }[]): Sql {
  let calls = 0;
  return (() => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls += 1;
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (answer?.rows) resolve(answer.rows.map((name) => ({ name })));
        else reject(Object.assign(new Error('no answer'), { code: answer?.code }));
      }, answer?.afterMs ?? 0);
    });
  }) as unknown as Sql;
}

function watch(sql: Sql) {
  const warnings: string[] = [];
  const refusals: Error[] = [];
  const started = requireMigrations(
    sql,
    { warn: (message) => warnings.push(message) },
    (error) => refusals.push(error),
    TIMING,
    dir,
  );
  return { started, warnings, refusals };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('the start-up check of the schema', () => {
  it('lets a process start on a database holding every migration', async () => {
    const check = watch(fakeSql([{ afterMs: 0, rows: ['0001_a.sql', '0002_b.sql'] }]));
    await expect(check.started).resolves.toBeUndefined();
    await settle();
    expect([check.warnings, check.refusals]).toEqual([[], []]);
  });

  it('refuses at once, naming what is missing, when PostgreSQL answers in time', async () => {
    const check = watch(fakeSql([{ afterMs: 0, rows: ['0001_a.sql'] }]));
    await expect(check.started).rejects.toThrow(/lacks 1 migration\(s\) \(0002_b\.sql\)/);
    const empty = watch(fakeSql([{ afterMs: 0, code: '42P01' }]));
    await expect(empty.started).rejects.toThrow(/0001_a\.sql, 0002_b\.sql/);
  });

  it('starts when PostgreSQL is slow, and refuses once its late answer lacks some', async () => {
    const check = watch(fakeSql([{ afterMs: 150, code: '42P01' }]));
    await expect(check.started).resolves.toBeUndefined();
    expect(check.warnings).toHaveLength(1);
    expect(check.refusals).toEqual([]);
    await settle();
    expect(check.refusals.map((error) => error.message)).toEqual([
      expect.stringContaining('npm run migrate'),
    ]);
  });

  it('asks again while PostgreSQL cannot be reached, and refuses when it can', async () => {
    const check = watch(
      fakeSql([
        { afterMs: 0, code: 'ECONNREFUSED' },
        { afterMs: 0, code: 'ECONNREFUSED' },
        { afterMs: 0, rows: ['0001_a.sql'] },
      ]),
    );
    await expect(check.started).resolves.toBeUndefined();
    await settle();
    expect(check.refusals.map((error) => error.message)).toEqual([
      expect.stringContaining('0002_b.sql'),
    ]);
  });

  it('stops asking once a late answer holds every migration', async () => {
    const check = watch(fakeSql([{ afterMs: 100, rows: ['0001_a.sql', '0002_b.sql'] }]));
    await check.started;
    await settle();
    expect(check.refusals).toEqual([]);
    expect(check.warnings).toHaveLength(1);
  });
});
