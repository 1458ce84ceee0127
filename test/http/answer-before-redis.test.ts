import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InFlight } from '../../src/http/in-flight.js';
import { sha256 } from '../../src/lib/canonical-json.js';
import type { TransferQueues } from '../../src/queue/transfer-queues.js';
import { redisKeys } from '../../src/redis/connection.js';
import { call, newTenant, openAccount, startTestApp, type TestApp } from '../support/app.js';
import { gate } from '../support/gate.js';

// The wake-up of every accepted transfer waits for this gate, so the Redis
// work that follows an acceptance stays unfinished until a test opens it.
let wakeUps = gate();
const inFlight = new InFlight();
let app: TestApp;
let tenant: { key: string; tenantId: string; source: string; destination: string };

beforeAll(async () => {
  app = await startTestApp({}, (deps) => {
    const queues: TransferQueues = Object.create(deps.queues, {
      wake: { value: () => wakeUps.opened },
    });
    return { ...deps, queues, inFlight };
  });
  const { key, tenantId } = await newTenant(app.sql);
  const source = await openAccount(app, key, { overdraft_limit: 1_000 });
  tenant = { key, tenantId, source, destination: await openAccount(app, key) };
});
afterAll(async () => {
  wakeUps.open();
  await app.close();
});

function accept(idempotencyKey: string) {
  return call<{ id: string; status: string }>(app, 'POST', '/v1/transfers', {
    key: tenant.key,
    headers: { 'idempotency-key': idempotencyKey },
    body: {
      source_account_id: tenant.source,
      destination_account_id: tenant.destination,
      amount: 5,
      currency: 'EUR',
    },
  });
}

describe('the answer to an acceptance', () => {
  it('does not wait for the wake-up or the cache write; the process waits for them', async () => {
    wakeUps = gate();
    const idempotencyKey = 'answer-before-redis-1';
    const keys = redisKeys(app.config.REDIS_PREFIX);
    const scope = sha256(`POST /v1/transfers ${idempotencyKey}`);

    const answer = await accept(idempotencyKey);
    expect(answer.status).toBe(202);
    const [row] = await app.sql<{ status: string }[]>`
      select status from transfers where id = ${answer.body.id}`;
    expect(row?.status).toBe('pending');

    // The wake-up is still held, and what the request left running is
    // counted: a stopping process does not get past its drain.
    expect(inFlight.size).toBe(1);
    let drained = false;
    const drain = inFlight.drain().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(drained).toBe(false);

    wakeUps.open();
    await drain;
    expect(inFlight.size).toBe(0);
    expect(await app.deps.redis.exists(keys.idempotencyLock(tenant.tenantId, scope))).toBe(0);
    expect(
      JSON.parse((await app.deps.redis.get(keys.idempotencyCache(tenant.tenantId, scope))) ?? '{}'),
    ).toMatchObject({ resourceId: answer.body.id, status: 202 });

    const replay = await accept(idempotencyKey);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(answer.body.id);
  });
});
