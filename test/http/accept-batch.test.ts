import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { createLogger } from '../../src/logger.js';
import { partitionOf } from '../../src/queue/partitions.js';
import { createTransferAcceptor } from '../../src/services/transfers.js';
import {
  call,
  newTenant,
  openAccount,
  startTestApp,
  type TestApp,
  type TestTenant,
} from '../support/app.js';
import { testConfig } from '../support/env.js';

let app: TestApp;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await newTenant(app.sql);
  other = await newTenant(app.sql, 'other tenant');
});
afterAll(() => app.close());

const GROUP_STATEMENT = /^\s*with input as \(\s*select \* from unnest/;

function transfer(key: string, idempotencyKey: string, body: Record<string, unknown>) {
  return call<{ id: string; status: string; code?: string }>(app, 'POST', '/v1/transfers', {
    key,
    headers: { 'idempotency-key': idempotencyKey },
    body: { amount: 1, currency: 'EUR', ...body },
  });
}

describe('accepting concurrent transfers together', () => {
  it('accepts 120 concurrent first attempts exactly once each, in fewer statements', async () => {
    const sources = await Promise.all(
      Array.from({ length: 6 }, () => openAccount(app, tenant.key, { overdraft_limit: 1_000 })),
    );
    const destination = await openAccount(app, tenant.key);
    const before = app.queries.filter((query) => GROUP_STATEMENT.test(query)).length;

    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, n) =>
        transfer(tenant.key, `group-${n}`, {
          source_account_id: sources[n % sources.length],
          destination_account_id: destination,
          amount: n + 1,
        }),
      ),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    const ids = answers.map((answer) => answer.body.id);
    expect(new Set(ids).size).toBe(120);
    const rows = await app.sql<{ id: string; amount: bigint; key: string }[]>`
      select t.id, t.amount, k.key from transfers t
      join idempotency_keys k on k.id = t.idempotency_key_id
      where t.id = any(${ids}::text[])`;
    const byId = new Map(rows.map((row) => [row.id, row]));
    answers.forEach((answer, n) => {
      expect(byId.get(answer.body.id)).toMatchObject({ amount: BigInt(n + 1), key: `group-${n}` });
    });
    const statements = app.queries.filter((query) => GROUP_STATEMENT.test(query)).length - before;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(120);
  });

  it('answers each request of a group on its own merits', async () => {
    const source = await openAccount(app, tenant.key, { overdraft_limit: 1_000 });
    const destination = await openAccount(app, tenant.key);
    const dollars = await openAccount(app, tenant.key, { currency: 'USD' });
    const foreign = await openAccount(app, other.key);
    const used = await transfer(tenant.key, 'merits-used', {
      source_account_id: source,
      destination_account_id: destination,
    });
    expect(used.status).toBe(202);

    const cases = {
      valid: transfer(tenant.key, 'merits-valid', {
        source_account_id: source,
        destination_account_id: destination,
      }),
      missing: transfer(tenant.key, 'merits-missing', {
        source_account_id: source,
        destination_account_id: 'acct_does_not_exist',
      }),
      foreign: transfer(tenant.key, 'merits-foreign', {
        source_account_id: source,
        destination_account_id: foreign,
      }),
      currency: transfer(tenant.key, 'merits-currency', {
        source_account_id: source,
        destination_account_id: dollars,
      }),
      itself: transfer(tenant.key, 'merits-itself', {
        source_account_id: source,
        destination_account_id: source,
      }),
      replay: transfer(tenant.key, 'merits-used', {
        source_account_id: source,
        destination_account_id: destination,
      }),
      reused: transfer(tenant.key, 'merits-used', {
        source_account_id: source,
        destination_account_id: destination,
        amount: 2,
      }),
      alsoValid: transfer(tenant.key, 'merits-also-valid', {
        source_account_id: source,
        destination_account_id: destination,
      }),
    };
    const names = Object.keys(cases) as (keyof typeof cases)[];
    const settled = await Promise.all(Object.values(cases));
    const answer = Object.fromEntries(names.map((name, n) => [name, settled[n]]));

    expect(answer.valid?.status).toBe(202);
    expect(answer.alsoValid?.status).toBe(202);
    expect(answer.missing?.status).toBe(404);
    expect(answer.foreign?.status).toBe(404);
    expect(answer.currency?.status).toBe(422);
    expect(answer.itself?.status).toBe(422);
    // Two requests with one key at once: one may find the other in flight (409).
    expect([202, 409]).toContain(answer.replay?.status);
    expect([422, 409]).toContain(answer.reused?.status);
    expect([answer.replay?.status, answer.reused?.status]).not.toEqual([409, 409]);
    if (answer.replay?.status === 202) expect(answer.replay.body.id).toBe(used.body.id);

    const [count] = await app.sql<{ n: bigint }[]>`
      select count(*) as n from transfers where source_account_id = ${source}`;
    expect(count?.n).toBe(3n);
  });
});

describe('the acceptor when its statement fails', () => {
  it('answers undefined to every request of the group, so each takes the full path', async () => {
    const config = testConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const broken = createSql(config, { max: 1 });
    const acceptor = createTransferAcceptor(broken, config, createLogger(config, 'test'));
    const item = (n: number) => ({
      transfer: {
        id: `tr_broken_${n}`,
        tenantId: tenant.tenantId,
        sourceAccountId: 'acct_a',
        destinationAccountId: 'acct_b',
        partition: partitionOf('acct_a', config.PARTITIONS),
        amount: 1n,
        currency: 'EUR',
        description: null,
        metadata: {},
      },
      record: {
        scope: { tenantId: tenant.tenantId, method: 'POST', path: '/v1/transfers', key: `b${n}` },
        fingerprint: 'f',
        resourceType: 'transfer',
        responseStatus: 202,
        ttlHours: 1,
      },
    });
    try {
      const answers = await Promise.all([1, 2, 3].map((n) => acceptor.submit(item(n))));
      expect(answers).toEqual([undefined, undefined, undefined]);
    } finally {
      await broken.end({ timeout: 1 });
    }
  });
});
