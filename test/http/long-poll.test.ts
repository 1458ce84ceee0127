import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettledWaiters } from '../../src/http/long-poll.js';
import { createRedis } from '../../src/redis/connection.js';
import { publishSettled } from '../../src/redis/settled.js';
import { RECHECK_MS } from '../../src/services/transfer-waits.js';
import {
  call,
  newTenant,
  openAccount,
  postTransfer,
  startTestApp,
  type TestApp,
} from '../support/app.js';
import { waitUntil } from '../worker/fixtures.js';

let app: TestApp;
let key: string;
let source: string;
let destination: string;

beforeAll(async () => {
  app = await startTestApp();
  key = (await newTenant(app.sql)).key;
  source = await openAccount(app, key, { overdraft_limit: 1000 });
  destination = await openAccount(app, key);
});
afterAll(() => app.close());

async function accept(idempotencyKey: string): Promise<string> {
  const answer = await postTransfer<{ id: string }>(app, key, idempotencyKey, {
    source,
    destination,
  });
  return answer.body.id;
}

describe('GET /v1/transfers/{id}?wait=N', () => {
  it('answers as soon as the transfer is final and the signal arrives', async () => {
    const id = await accept('wait-1');
    const started = Date.now();
    const waiting = call<{ status: string }>(app, 'GET', `/v1/transfers/${id}?wait=20`, { key });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.sql`
      update transfers set status = 'failed', failed_at = now(), failure_code = 'account_closed'
      where id = ${id}`;
    await publishSettled(app.deps.redis, app.config.REDIS_PREFIX, [id]);
    const answer = await waiting;
    expect(answer.body.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('answers pending when the wait runs out', async () => {
    const id = await accept('wait-2');
    const started = Date.now();
    const answer = await call<{ status: string }>(app, 'GET', `/v1/transfers/${id}?wait=1`, {
      key,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('pending');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers within about a second of settling when no signal comes', async () => {
    // A worker killed right after its commit never publishes: the waiter
    // looks again on its own.
    const id = await accept('wait-lost-signal');
    const waiting = call<{ status: string }>(app, 'GET', `/v1/transfers/${id}?wait=20`, { key });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.sql`
      update transfers set status = 'failed', failed_at = now(), failure_code = 'account_closed'
      where id = ${id}`;
    const settledAt = Date.now();
    const answer = await waiting;
    expect(answer.body.status).toBe('failed');
    expect(Date.now() - settledAt).toBeLessThan(RECHECK_MS + 1_500);
    expect(app.deps.waiters.size).toBe(0);
  });

  it('answers at once without wait', async () => {
    const id = await accept('wait-3');
    const answer = await call<{ status: string }>(app, 'GET', `/v1/transfers/${id}`, { key });
    expect(answer.body.status).toBe('pending');
    expect(app.deps.waiters.size).toBe(0);
  });
});

describe('LONG_POLL_MAX_SECONDS', () => {
  it('answers a wait past the largest accepted with 422, rather than cutting it', async () => {
    const short = await startTestApp({ LONG_POLL_MAX_SECONDS: '2' });
    try {
      const own = (await newTenant(short.sql)).key;
      const longer = await call<{ errors: unknown[] }>(short, 'GET', '/v1/transfers/tr_x?wait=3', {
        key: own,
      });
      expect(longer.status).toBe(422);
      expect(longer.body.errors).toEqual([{ field: 'wait', message: 'at most 2 seconds here' }]);
      const within = await call(short, 'GET', '/v1/transfers/tr_x?wait=2', { key: own });
      expect(within.status).toBe(404);
    } finally {
      await short.close();
    }
  });
});

describe('SettledWaiters.listening', () => {
  it('is true once subscribed, and false once the connection is gone', async () => {
    const subscriber = createRedis(app.config, { blocking: true });
    const waiters = new SettledWaiters(subscriber, app.config.REDIS_PREFIX, app.deps.log);
    expect(waiters.listening).toBe(false);
    await waiters.start();
    expect(waiters.listening).toBe(true);
    subscriber.disconnect();
    await waitUntil('the waiters no longer listen', async () =>
      Promise.resolve(!waiters.listening),
    );
    waiters.close();
  });
});
