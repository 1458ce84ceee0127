import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/sql.js';
import { sha256 } from '../../src/lib/canonical-json.js';
import { createRedis, type Redis, redisKeys } from '../../src/redis/connection.js';
import { newTenant } from '../support/app.js';
import { testConfig } from '../support/env.js';
import { type Child, startWeb, stopChild } from '../support/processes.js';

const config = testConfig({ LOG_LEVEL: 'info' });
let sql: Sql;
let redis: Redis;
let web: Child;
let port: number;
let tenant: { key: string; tenantId: string };

beforeAll(async () => {
  sql = createSql(config, { max: 1 });
  redis = createRedis(config);
  tenant = await newTenant(sql, 'shutdown midway');
  ({ web, port } = await startWeb(config));
});

afterAll(async () => {
  await stopChild(web, 1_000);
  redis.disconnect();
  await sql.end();
});

async function openAccount(fields: Record<string, unknown>): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ currency: 'EUR', ...fields }),
  });
  return ((await response.json()) as { id: string }).id;
}

describe('web process shutdown with a request half sent', () => {
  it('answers it, and finishes its Redis work before closing its connections', async () => {
    const source = await openAccount({ overdraft_limit: 10 });
    const destination = await openAccount({});
    const idempotencyKey = 'shutdown-midway-1';
    const body = JSON.stringify({
      source_account_id: source,
      destination_account_id: destination,
      amount: 1,
      currency: 'EUR',
    });

    // The request line and some headers now; the rest once the process is
    // stopping, so the request runs after its first drain has ended.
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tenant.key}\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    web.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    socket.write(
      `Content-Type: application/json\r\nIdempotency-Key: ${idempotencyKey}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    expect(await web.exited).toBe(0);

    // The release and the cache write reached Redis before the process closed it.
    const keys = redisKeys(config.REDIS_PREFIX);
    const scope = sha256(`POST /v1/transfers ${idempotencyKey}`);
    expect(await redis.exists(keys.idempotencyLock(tenant.tenantId, scope))).toBe(0);
    expect(await redis.exists(keys.idempotencyCache(tenant.tenantId, scope))).toBe(1);
  });
});
