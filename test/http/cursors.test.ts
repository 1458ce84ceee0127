import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/queue/partitions.js';
import { applyPendingBatch } from '../../src/services/apply-transfers.js';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/databases.js';

let app: TestApp;
let databaseUrl: string;

// A database of its own: applying the pending transfers of a partition must
// not apply those of other test files.
beforeAll(async () => {
  databaseUrl = await createScratchDatabase('cursor');
  app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', DATABASE_URL: databaseUrl });
});
afterAll(async () => {
  await app.close();
  await dropScratchDatabase(databaseUrl);
});

interface Items {
  key: string;
  account: string;
  other: string;
  transfer: string;
  entry: string;
  endpoint: string;
}

/** A tenant with one item of every list: two accounts, a posted transfer, an endpoint. */
async function tenantWithItems(name: string): Promise<Items> {
  const { key } = await newTenant(app.sql, name);
  const account = await openAccount(app, key, { overdraft_limit: 100 });
  const other = await openAccount(app, key);
  const transfer = await call<{ id: string }>(app, 'POST', '/v1/transfers', {
    key,
    headers: { 'idempotency-key': `${name}-transfer` },
    body: { source_account_id: account, destination_account_id: other, amount: 5, currency: 'EUR' },
  });
  await applyPendingBatch(app.sql, partitionOf(account, app.config.PARTITIONS), 10);
  const entries = await call<{ data: { id: string }[] }>(
    app,
    'GET',
    `/v1/accounts/${account}/entries`,
    { key },
  );
  const endpoint = await call<{ id: string }>(app, 'POST', '/v1/webhook-endpoints', {
    key,
    body: { url: 'http://127.0.0.1:9/hook', event_types: ['*'] },
  });
  const entry = entries.body.data[0]?.id;
  if (transfer.status !== 202 || !entry || endpoint.status !== 201) {
    throw new Error(`${name}: items not made`);
  }
  return { key, account, other, transfer: transfer.body.id, entry, endpoint: endpoint.body.id };
}

describe('list cursors', () => {
  it('refuses a starting_after naming nothing the list holds, not an empty page', async () => {
    const own = await tenantWithItems('cursor-own');
    const foreign = await tenantWithItems('cursor-foreign');
    const lists: { path: string; last: string; outside: string[] }[] = [
      // The oldest account is the last of its list; the other tenant's are outside it.
      { path: '/v1/accounts', last: own.account, outside: [foreign.account] },
      { path: '/v1/transfers', last: own.transfer, outside: [foreign.transfer] },
      // An entry of another account of the same tenant is outside this account's list.
      {
        path: `/v1/accounts/${own.account}/entries`,
        last: own.entry,
        outside: [foreign.entry, (await entryOf(own.key, own.other)) ?? 'missing'],
      },
      { path: '/v1/webhook-endpoints', last: own.endpoint, outside: [foreign.endpoint] },
    ];
    for (const { path, last, outside } of lists) {
      const end = await call<{ data: unknown[]; has_more: boolean }>(
        app,
        'GET',
        `${path}?starting_after=${last}`,
        { key: own.key },
      );
      expect([path, end.status, end.body.data, end.body.has_more]).toEqual([path, 200, [], false]);
      for (const cursor of [...outside, 'x_names_nothing']) {
        const refused = await call<{ code: string; errors: unknown[] }>(
          app,
          'GET',
          `${path}?starting_after=${cursor}`,
          { key: own.key },
        );
        expect([path, cursor, refused.status, refused.body.code]).toEqual([
          path,
          cursor,
          422,
          'validation_error',
        ]);
        expect(refused.body.errors).toEqual([
          { field: 'starting_after', message: 'the id of an item of this list, as next_cursor' },
        ]);
      }
    }
    const deliveries = await call(
      app,
      'GET',
      `/v1/webhook-endpoints/${own.endpoint}/deliveries?starting_after=whdl_names_nothing`,
      { key: own.key },
    );
    expect(deliveries.status).toBe(422);
  });
});

async function entryOf(key: string, account: string): Promise<string | undefined> {
  const entries = await call<{ data: { id: string }[] }>(
    app,
    'GET',
    `/v1/accounts/${account}/entries`,
    { key },
  );
  return entries.body.data[0]?.id;
}
