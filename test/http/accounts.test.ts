import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';
import { gate } from '../support/gate.js';

let app: TestApp;
let key: string;

beforeAll(async () => {
  app = await startTestApp();
  key = (await newTenant(app.sql)).key;
});
afterAll(() => app.close());

describe('accounts', () => {
  it('opens an account at zero with its limit, reference and metadata', async () => {
    const answer = await call(app, 'POST', '/v1/accounts', {
      key,
      body: { currency: 'CZK', overdraft_limit: 5000, reference: 'a-1', metadata: { owner: 'x' } },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      currency: 'CZK',
      balance: 0,
      overdraft_limit: 5000,
      reference: 'a-1',
      metadata: { owner: 'x' },
      status: 'active',
      version: 0,
      closed_at: null,
    });
    expect(String(answer.body.id)).toMatch(/^acct_/);
  });

  it('returns metadata exactly as sent, snake_case keys included', async () => {
    const metadata = { order_id: 'o-1', customer_ref: 7, nested_flag: true };
    const id = await openAccount(app, key, { metadata });
    const read = await call(app, 'GET', `/v1/accounts/${id}`, { key });
    expect(read.body.metadata).toEqual(metadata);
  });

  it('keeps references unique per tenant', async () => {
    await openAccount(app, key, { reference: 'dup-ref' });
    const again = await call(app, 'POST', '/v1/accounts', {
      key,
      body: { currency: 'EUR', reference: 'dup-ref' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'account_reference_taken' });
  });

  it('lists newest first with a cursor, and filters by reference', async () => {
    const own = (await newTenant(app.sql)).key;
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(await openAccount(app, own, { reference: `page-${index}` }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&starting_after=${cursor}` : '';
      const page = await call<{ data: { id: string }[]; has_more: boolean; next_cursor: string }>(
        app,
        'GET',
        `/v1/accounts?limit=2${query}`,
        { key: own },
      );
      seen.push(...page.body.data.map((account) => account.id));
      cursor = page.body.has_more ? page.body.next_cursor : null;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const filtered = await call<{ data: { id: string }[] }>(
      app,
      'GET',
      '/v1/accounts?reference=page-3',
      { key: own },
    );
    expect(filtered.body.data.map((account) => account.id)).toEqual([ids[3]]);
  });

  it('soft-closes an empty account; it stays readable and closing again is harmless', async () => {
    const id = await openAccount(app, key);
    const closed = await call(app, 'DELETE', `/v1/accounts/${id}`, { key });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id, status: 'closed', version: 1 });
    expect(closed.body.closed_at).not.toBeNull();
    const again = await call(app, 'DELETE', `/v1/accounts/${id}`, { key });
    expect(again.status).toBe(200);
    const read = await call(app, 'GET', `/v1/accounts/${id}`, { key });
    expect(read.body).toMatchObject({ status: 'closed' });
    const events = await app.sql`
      select type from events where data->>'id' = ${id} and type = 'account.closed'`;
    expect(events).toHaveLength(1);
  });

  it('dates a close, and its event, after whatever held the account before it', async () => {
    const id = await openAccount(app, key);
    const held = gate();
    // Another transaction holds the row, as an apply transaction posting on it would.
    let heldUntil = new Date(0);
    const holder = app.sql.begin(async (tx) => {
      await tx`select id from accounts where id = ${id} for update`;
      await held.opened;
      const [row] = await tx<{ at: Date }[]>`select clock_timestamp() as at`;
      heldUntil = row?.at ?? heldUntil;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));

    const closing = call<{ closed_at: string }>(app, 'DELETE', `/v1/accounts/${id}`, { key });
    await new Promise((resolve) => setTimeout(resolve, 200));
    held.open();
    await holder;
    const closed = await closing;

    expect(closed.status).toBe(200);
    expect(new Date(closed.body.closed_at).getTime()).toBeGreaterThanOrEqual(heldUntil.getTime());
    const [event] = await app.sql<{ createdAt: Date }[]>`
      select created_at from events where type = 'account.closed' and data->>'id' = ${id}`;
    expect(event?.createdAt.getTime()).toBeGreaterThanOrEqual(heldUntil.getTime());
  });

  it('refuses to close an account with pending transfers or a balance (409)', async () => {
    const source = await openAccount(app, key, { overdraft_limit: 100 });
    const destination = await openAccount(app, key);
    await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'close-pending' },
      body: {
        source_account_id: source,
        destination_account_id: destination,
        amount: 10,
        currency: 'EUR',
      },
    });
    for (const id of [source, destination]) {
      const answer = await call(app, 'DELETE', `/v1/accounts/${id}`, { key });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'account_not_empty' });
    }
  });

  it('keeps balances and limits within 2^53-1 at the database', async () => {
    const id = await openAccount(app, key);
    await expect(
      app.sql`update accounts set balance = 9007199254740992 where id = ${id}`,
    ).rejects.toThrow(/accounts_balance_json_safe/);
    await expect(
      app.sql`update accounts set overdraft_limit = 9007199254740992 where id = ${id}`,
    ).rejects.toThrow(/accounts_overdraft_json_safe/);
  });

  it('refuses to delete an account row at the database', async () => {
    const id = await openAccount(app, key);
    await expect(app.sql`delete from accounts where id = ${id}`).rejects.toThrow(/append-only/);
  });
});
