import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTransfer, lockSourceForAcceptance } from '../../src/data/transfers.js';
import { newId } from '../../src/lib/ids.js';
import { partitionOf } from '../../src/queue/partitions.js';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';
import { type Gate, gate } from '../support/gate.js';

let app: TestApp;
let key: string;
let tenantId: string;
let source: string;
let destination: string;

beforeAll(async () => {
  app = await startTestApp();
  ({ key, tenantId } = await newTenant(app.sql));
  source = await openAccount(app, key, { overdraft_limit: 1_000 });
  destination = await openAccount(app, key);
});
afterAll(() => app.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds an account's acceptance lock, in a transaction of its own, until `until` opens. */
function holdSource(account: string, until: Gate): Promise<unknown> {
  return app.sql.begin(async (tx) => {
    await lockSourceForAcceptance(tx, account);
    await until.opened;
  });
}

describe('acceptance order per source', () => {
  it('does not commit a later transfer of a source while an earlier one is in flight', async () => {
    const held = gate();
    const earlier = newId('tr');
    const first = app.sql.begin(async (tx) => {
      await lockSourceForAcceptance(tx, source);
      await insertTransfer(tx, {
        id: earlier,
        tenantId,
        sourceAccountId: source,
        destinationAccountId: destination,
        partition: partitionOf(source, app.config.PARTITIONS),
        amount: 1n,
        currency: 'EUR',
        description: null,
        metadata: {},
        idempotencyKeyId: null,
        attempt: 1,
        previousAttemptId: null,
      });
      await held.opened;
    });
    await sleep(100);

    const later = call<{ id: string }>(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'order-later' },
      body: {
        source_account_id: source,
        destination_account_id: destination,
        amount: 2,
        currency: 'EUR',
      },
    });
    let raced = 'not raced';
    try {
      raced = await Promise.race([later.then(() => 'answered'), sleep(500).then(() => 'waiting')]);
    } finally {
      held.open();
      await first;
    }
    expect(raced).toBe('waiting');
    const answer = await later;
    expect(answer.status).toBe(202);
    const rows = await app.sql<{ id: string }[]>`
      select id from transfers where id in (${earlier}, ${answer.body.id}) order by seq`;
    expect(rows.map((row) => row.id)).toEqual([earlier, answer.body.id]);
  });

  it('lets transfers of other sources through meanwhile', async () => {
    const other = await openAccount(app, key, { overdraft_limit: 1_000 });
    const held = gate();
    const holder = holdSource(source, held);
    await sleep(50);
    const answer = await call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'order-other' },
      body: {
        source_account_id: other,
        destination_account_id: destination,
        amount: 1,
        currency: 'EUR',
      },
    });
    expect(answer.status).toBe(202);
    held.open();
    await holder;
  });

  it('does not let a held source stall the requests of other sources behind it', async () => {
    const other = await openAccount(app, key, { overdraft_limit: 1_000 });
    const held = gate();
    const holder = holdSource(source, held);
    await sleep(50);

    const body = (from: string, amount: number) => ({
      source_account_id: from,
      destination_account_id: destination,
      amount,
      currency: 'EUR',
    });
    const blocked = call<{ id: string }>(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'held-source' },
      body: body(source, 3),
    });
    await sleep(20);
    const free = call(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'free-source' },
      body: body(other, 4),
    });
    const freeAnswer = await Promise.race([free, sleep(1_000).then(() => undefined)]);
    const stillWaiting = await Promise.race([
      blocked.then(() => false),
      sleep(100).then(() => true),
    ]);
    held.open();
    await holder;

    expect(freeAnswer?.status).toBe(202);
    expect(stillWaiting).toBe(true);
    expect((await free).status).toBe(202);
    expect((await blocked).status).toBe(202);
  });
});
