import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';

let app: TestApp;
let owner: string;
let stranger: string;
let account: string;
let other: string;
let transferId: string;

beforeAll(async () => {
  app = await startTestApp();
  owner = (await newTenant(app.sql, 'owner')).key;
  stranger = (await newTenant(app.sql, 'stranger')).key;
  account = await openAccount(app, owner, { overdraft_limit: 1000, reference: 'shared-ref' });
  other = await openAccount(app, owner);
  const accepted = await call<{ id: string }>(app, 'POST', '/v1/transfers', {
    key: owner,
    headers: { 'idempotency-key': 'iso-1' },
    body: { source_account_id: account, destination_account_id: other, amount: 5, currency: 'EUR' },
  });
  transferId = accepted.body.id;
});
afterAll(() => app.close());

describe('tenant isolation', () => {
  it("answers 404 for every route that names another tenant's account or transfer", async () => {
    const routes: [string, string][] = [
      ['GET', `/v1/accounts/${account}`],
      ['DELETE', `/v1/accounts/${other}`],
      ['GET', `/v1/accounts/${account}/entries`],
      ['GET', `/v1/transfers/${transferId}`],
      ['GET', `/v1/transfers/${transferId}?wait=1`],
    ];
    for (const [method, path] of routes) {
      const answer = await call(app, method, path, { key: stranger });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toMatchObject({ code: 'not_found' });
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
    }
    const still = await call<{ status: string }>(app, 'GET', `/v1/accounts/${other}`, {
      key: owner,
    });
    expect(still.body.status).toBe('active');
  });

  it('lists nothing of another tenant', async () => {
    const accounts = await call<{ data: unknown[] }>(app, 'GET', '/v1/accounts', {
      key: stranger,
    });
    expect(accounts.body.data).toEqual([]);
    const byReference = await call<{ data: unknown[] }>(
      app,
      'GET',
      '/v1/accounts?reference=shared-ref',
      { key: stranger },
    );
    expect(byReference.body.data).toEqual([]);
    const transfers = await call<{ data: unknown[] }>(
      app,
      'GET',
      `/v1/transfers?account_id=${account}`,
      { key: stranger },
    );
    expect(transfers.body.data).toEqual([]);
  });

  it('cannot name a foreign account in a transfer, as source or destination', async () => {
    const mine = await openAccount(app, stranger, { overdraft_limit: 1000 });
    const cases = [
      { source_account_id: account, destination_account_id: mine },
      { source_account_id: mine, destination_account_id: account },
    ];
    for (const [index, accounts] of cases.entries()) {
      const answer = await call(app, 'POST', '/v1/transfers', {
        key: stranger,
        headers: { 'idempotency-key': `foreign-${index}` },
        body: { ...accounts, amount: 1, currency: 'EUR' },
      });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ code: 'not_found' });
    }
    const [row] = await app.sql<{ count: bigint }[]>`
      select count(*) from transfers where source_account_id = ${mine}
        or destination_account_id = ${mine}`;
    expect(row?.count).toBe(0n);
  });

  it("keeps idempotency keys per tenant: the same key is another tenant's own", async () => {
    const mine = await openAccount(app, stranger, { overdraft_limit: 1000 });
    const theirs = await openAccount(app, stranger);
    const answer = await call<{ id: string }>(app, 'POST', '/v1/transfers', {
      key: stranger,
      headers: { 'idempotency-key': 'iso-1' },
      body: { source_account_id: mine, destination_account_id: theirs, amount: 5, currency: 'EUR' },
    });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
    expect(answer.body.id).not.toBe(transferId);
  });
});
