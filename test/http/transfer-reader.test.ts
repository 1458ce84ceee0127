import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/sql.js';
import { createTransferReader } from '../../src/services/transfer-waits.js';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';

let app: TestApp;
let counted: Sql;
let statements = 0;

beforeAll(async () => {
  app = await startTestApp();
  counted = createSql(app.config, {
    max: 2,
    onQuery: (query) => {
      if (query.includes('from transfers')) statements += 1;
    },
  });
});
afterAll(async () => {
  await counted.end({ timeout: 5 });
  await app.close();
});

async function acceptSome(key: string, count: number): Promise<string[]> {
  const source = await openAccount(app, key, { overdraft_limit: 1000 });
  const destination = await openAccount(app, key);
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const answer = await call<{ id: string }>(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': `reader-${n}` },
      body: {
        source_account_id: source,
        destination_account_id: destination,
        amount: 1,
        currency: 'EUR',
      },
    });
    ids.push(answer.body.id);
  }
  return ids;
}

describe('reads for long-polls', () => {
  it('reads many transfers asked for at once in a few statements, each in its tenant', async () => {
    const ours = await newTenant(app.sql, 'reader ours');
    const theirs = await newTenant(app.sql, 'reader theirs');
    const ids = await acceptSome(ours.key, 40);
    const read = createTransferReader(counted);

    statements = 0;
    const rows = await Promise.all([
      ...ids.map((id) => read(ours.tenantId, id)),
      ...ids.map((id) => read(theirs.tenantId, id)),
    ]);

    expect(rows.slice(0, ids.length).map((row) => row?.id)).toEqual(ids);
    expect(rows.slice(ids.length).every((row) => row === undefined)).toBe(true);
    // The first read goes alone; the 79 asked for meanwhile share one or two more.
    expect(statements).toBeLessThanOrEqual(3);
  });
});
