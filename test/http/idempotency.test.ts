import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/canonical-json.js';
import { redisKeys } from '../../src/redis/connection.js';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';

interface TransferBody {
  id: string;
  status: string;
  attempt: number;
  previous_attempt_id: string | null;
}

let app: TestApp;
let key: string;
let tenantId: string;
let source: string;
let destination: string;

beforeAll(async () => {
  app = await startTestApp();
  ({ key, tenantId } = await newTenant(app.sql));
  source = await openAccount(app, key, { overdraft_limit: 1_000_000 });
  destination = await openAccount(app, key);
});
afterAll(() => app.close());

function transfer(idempotencyKey: string | undefined, body: Record<string, unknown> = {}) {
  const headers: Record<string, string> = {};
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  return call<TransferBody>(app, 'POST', '/v1/transfers', {
    key,
    headers,
    body: {
      source_account_id: source,
      destination_account_id: destination,
      amount: 100,
      currency: 'EUR',
      ...body,
    },
  });
}

async function transfersWithKey(idempotencyKey: string) {
  return app.sql<{ id: string; status: string }[]>`
    select t.id, t.status from transfers t
    where t.tenant_id = ${tenantId} and t.id in (
      select resource_id from idempotency_keys where key = ${idempotencyKey}
      union select id from transfers where previous_attempt_id is not null)
    order by t.seq`;
}

async function countTransfers(): Promise<number> {
  const [row] = await app.sql<{ count: bigint }[]>`
    select count(*) from transfers where tenant_id = ${tenantId}`;
  return Number(row?.count ?? 0n);
}

async function failTransfer(id: string): Promise<void> {
  await app.sql`
    update transfers set status = 'failed', failed_at = now(), failure_code = 'insufficient_funds'
    where id = ${id}`;
}

describe('Idempotency-Key on POST /v1/transfers', () => {
  it('is required: 400 without it, and nothing is recorded', async () => {
    const before = await countTransfers();
    const answer = await transfer(undefined);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'idempotency_key_missing' });
    expect(await countTransfers()).toBe(before);
  });

  it('rejects keys that are empty, too long or not printable ASCII', async () => {
    for (const bad of ['', 'x'.repeat(256), 'clé-é', 'tab\there']) {
      const answer = await transfer(bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body).toMatchObject({ code: 'idempotency_key_invalid' });
    }
  });

  it('accepts once and replays with the same status, transfer and header', async () => {
    const first = await transfer('replay-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.headers.get('location')).toBe(`/v1/transfers/${first.body.id}`);

    const again = await transfer('replay-1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('treats the quoted structured-field form as the same key', async () => {
    const first = await transfer('quoted-1');
    const quoted = await transfer('"quoted-1"');
    expect(quoted.body.id).toBe(first.body.id);
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
  });

  it('ignores key order in the body when fingerprinting', async () => {
    const first = await transfer('order-1', { metadata: { a: 1, b: 2 } });
    const reordered = await call<TransferBody>(app, 'POST', '/v1/transfers', {
      key,
      headers: { 'idempotency-key': 'order-1' },
      body: {
        metadata: { b: 2, a: 1 },
        currency: 'EUR',
        amount: 100,
        destination_account_id: destination,
        source_account_id: source,
      },
    });
    expect(reordered.status).toBe(202);
    expect(reordered.body.id).toBe(first.body.id);
  });

  it('treats a field sent as null like a field left out', async () => {
    const first = await transfer('null-1');
    const withNull = await transfer('null-1', { description: null });
    expect(withNull.status).toBe(202);
    expect(withNull.body.id).toBe(first.body.id);
    expect(withNull.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 422 to the same key with a different body, and changes nothing', async () => {
    await transfer('reuse-1');
    const before = await countTransfers();
    const answer = await transfer('reuse-1', { amount: 101 });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await countTransfers()).toBe(before);
  });

  it('answers 409 while the key is in flight, before any database call', async () => {
    const scope = sha256('POST /v1/transfers in-flight-1');
    const lock = redisKeys(app.config.REDIS_PREFIX).idempotencyLock(tenantId, scope);
    await app.deps.redis.set(lock, 'someone-else', 'PX', 10_000);
    // Warm the API-key cache so that authentication needs no query either.
    await call(app, 'GET', '/v1/transfers?limit=1', { key });
    const sent = app.queries.length;

    const answer = await transfer('in-flight-1');
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'idempotency_key_in_flight' });
    expect(app.queries.slice(sent)).toEqual([]);

    await app.deps.redis.del(lock);
    expect((await transfer('in-flight-1')).status).toBe(202);
  });

  it('takes the lock when its command runs twice, as after a lost reply', async () => {
    // The scripts are known to Redis after this, so the next one goes by its digest.
    expect((await transfer('resent-warm-up')).status).toBe(202);
    // A connection that drops after Redis ran the lock command but before its
    // reply arrived makes ioredis send the command again, with the same token.
    const redis = app.deps.redis;
    const evalsha = redis.evalsha;
    let resent = false;
    redis.evalsha = async function (this: typeof redis, ...args: unknown[]) {
      const run = evalsha as (...args: unknown[]) => Promise<unknown>;
      if (!resent) {
        resent = true;
        await run.apply(this, args);
      }
      return run.apply(this, args);
    } as typeof evalsha;
    let first: Awaited<ReturnType<typeof transfer>>;
    try {
      first = await transfer('resent-1');
    } finally {
      redis.evalsha = evalsha;
    }
    expect(resent).toBe(true);
    expect(first.status).toBe(202);
    // The lock was released: a replay answers at once, with the same transfer.
    const replay = await transfer('resent-1');
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(first.body.id);
  });

  it('makes exactly one transfer out of 50 concurrent requests with one key', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => transfer('race-1')));
    const accepted = answers.filter((answer) => answer.status === 202);
    const statuses = new Set(answers.map((answer) => answer.status));
    expect([...statuses].every((status) => status === 202 || status === 409)).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((answer) => answer.body.id)).size).toBe(1);
    const rows = await app.sql`
      select t.id from transfers t join idempotency_keys k on k.id = t.idempotency_key_id
      where k.key = 'race-1' and k.tenant_id = ${tenantId}`;
    expect(rows).toHaveLength(1);
  });

  it('stores nothing for a request that fails, so the key can be used again', async () => {
    const missing = await transfer('retry-after-error-1', { destination_account_id: 'acct_nope' });
    expect(missing.status).toBe(404);
    const fixed = await transfer('retry-after-error-1', { amount: 555 });
    expect(fixed.status).toBe(202);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('frees the key of a failed transfer for a new, linked attempt', async () => {
    const first = await transfer('failed-1');
    await failTransfer(first.body.id);

    const changed = await transfer('failed-1', { amount: 7 });
    expect(changed.status).toBe(422);

    const second = await transfer('failed-1');
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body).toMatchObject({ attempt: 2, previous_attempt_id: first.body.id });

    const replay = await transfer('failed-1');
    expect(replay.body.id).toBe(second.body.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await transfersWithKey('failed-1')).toBeDefined();
  });

  it('lets the database refuse a second live attempt for one key', async () => {
    const first = await transfer('one-live-1');
    await expect(
      app.sql`
        insert into transfers (id, tenant_id, source_account_id, destination_account_id,
          partition, amount, currency, idempotency_key_id)
        select 'tr_dup_live', tenant_id, source_account_id, destination_account_id, partition,
          amount, currency, idempotency_key_id
        from transfers where id = ${first.body.id}`,
    ).rejects.toThrow(/transfers_one_live_attempt/);
  });

  it('expires records after the configured time', async () => {
    const first = await transfer('expiry-1');
    const [record] = await app.sql<{ hours: number }[]>`
      select extract(epoch from expires_at - created_at) / 3600 as hours
      from idempotency_keys where key = 'expiry-1' and tenant_id = ${tenantId}`;
    expect(Number(record?.hours)).toBeCloseTo(app.config.IDEMPOTENCY_TTL_HOURS, 1);

    await app.sql`
      update idempotency_keys set expires_at = now() - interval '1 second'
      where key = 'expiry-1' and tenant_id = ${tenantId}`;
    const scope = sha256('POST /v1/transfers expiry-1');
    await app.deps.redis.del(redisKeys(app.config.REDIS_PREFIX).idempotencyCache(tenantId, scope));

    const reused = await transfer('expiry-1', { amount: 999 });
    expect(reused.status).toBe(202);
    expect(reused.body.id).not.toBe(first.body.id);
  });
});

describe('a replay of a transfer still pending', () => {
  // As after a reply lost once the acceptance had committed: the client got
  // an error, no wake-up went out and nothing was cached, and it retries.
  it('wakes its partition again, instead of leaving the transfer to the sweeper', async () => {
    const first = await transfer('wake-again-1');
    expect(first.status).toBe(202);
    const [row] = await app.sql<{ partition: number }[]>`
      select partition from transfers where id = ${first.body.id}`;
    const queue = app.deps.queues.queue(row?.partition ?? -1);
    await queue.drain();
    expect(await queue.getJobCounts('wait')).toEqual({ wait: 0 });
    const scope = sha256('POST /v1/transfers wake-again-1');
    await app.deps.redis.del(redisKeys(app.config.REDIS_PREFIX).idempotencyCache(tenantId, scope));

    const again = await transfer('wake-again-1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await queue.getJobCounts('wait')).toEqual({ wait: 1 });
  });
});

describe('Idempotency-Key on other POSTs', () => {
  it('replays account creation with the same account', async () => {
    const headers = { 'idempotency-key': 'acct-1' };
    const body = { currency: 'EUR', reference: 'idem-acct-1' };
    const first = await call<{ id: string }>(app, 'POST', '/v1/accounts', { key, headers, body });
    const again = await call<{ id: string }>(app, 'POST', '/v1/accounts', { key, headers, body });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});
