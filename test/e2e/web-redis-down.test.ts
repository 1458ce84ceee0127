import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { freePort } from '../../src/lib/free-port.js';
import { createRedis } from '../../src/redis/connection.js';
import { callApi } from '../support/api.js';
import { newTenant } from '../support/app.js';
import { configEnv, testConfig } from '../support/env.js';
import {
  type Child,
  startChild,
  startRedisServer,
  startWeb,
  stopChild,
  waitForLine,
  waitForOk,
} from '../support/processes.js';

const ADMIN = 'admin-password-redis-down';
const adminAuth = { authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` };

/** The fields of a log line that say where an error came from. */
interface LogLine {
  msg: string;
  partition?: number;
  connection?: string;
  queue?: string;
}

let redisPort: number;
let redisServer: ChildProcess | undefined;
let sql: Sql;
let web: Child;
let workers: Child[];
let base: string;
let tenant: { key: string; tenantId: string };
let config: Config;

beforeAll(async () => {
  redisPort = await freePort();
  config = testConfig({
    LOG_LEVEL: 'info',
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    ADMIN_PASSWORD: ADMIN,
  });
  sql = createSql(config, { max: 1 });
  tenant = await newTenant(sql, 'redis down');
  // Nothing listens on the Redis port yet.
  workers = [
    startChild('worker', 'workers/transfers.ts', configEnv(config)),
    startChild('webhooks', 'workers/webhooks.ts', configEnv(config)),
  ];
  let port: number;
  ({ web, port } = await startWeb(config, '/healthz'));
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await Promise.all([web, ...workers].map((child) => stopChild(child, 2_000)));
  redisServer?.kill('SIGKILL');
  await sql.end();
});

function api(method: string, path: string, body?: unknown, idempotencyKey?: string) {
  return callApi<Record<string, unknown>>(base, tenant.key, { method, path, body, idempotencyKey });
}

function parsed(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function stopRedisServer(): Promise<void> {
  const server = redisServer;
  redisServer = undefined;
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

describe('processes and a Redis that is away', () => {
  it('wait for Redis at start; the web listens and says it is not ready meanwhile', async () => {
    const readiness = await api('GET', '/readyz');
    expect(readiness).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { postgres: true, redis: false } },
    });
    const transfer = await api(
      'POST',
      '/v1/transfers',
      {
        source_account_id: '00000000-0000-4000-8000-000000000001',
        destination_account_id: '00000000-0000-4000-8000-000000000002',
        amount: 1,
        currency: 'EUR',
      },
      'redis-down-1',
    );
    expect(transfer.status).toBe(503);
    expect(transfer.body.type).toMatch(/unavailable$/);
    // Operator routes answer too, instead of waiting for Redis.
    const metrics = await fetch(`${base}/metrics`, {
      headers: adminAuth,
      signal: AbortSignal.timeout(3_000),
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).not.toMatch(/^queue_jobs\{/m);
    const dashboard = await fetch(`${base}/admin/queues/api/queues`, {
      headers: adminAuth,
      signal: AbortSignal.timeout(3_000),
    });
    expect(dashboard.status).toBe(503);

    redisServer = await startRedisServer(redisPort);
    await waitForOk(`${base}/readyz`, 15_000);
    const source = await api('POST', '/v1/accounts', { currency: 'EUR', overdraft_limit: 5 });
    const destination = await api('POST', '/v1/accounts', { currency: 'EUR' });
    const accepted = await api(
      'POST',
      '/v1/transfers',
      {
        source_account_id: source.body.id,
        destination_account_id: destination.body.id,
        amount: 1,
        currency: 'EUR',
      },
      'redis-down-2',
    );
    expect(accepted.status).toBe(202);
    const scraped = await fetch(`${base}/metrics`, { headers: adminAuth });
    expect(await scraped.text()).toMatch(/^queue_jobs\{/m);
    // The worker and webhooks processes waited for Redis, and run now.
    await Promise.all(workers.map((child) => waitForLine(child, /started/)));
    const settled = await api('GET', `/v1/transfers/${String(accepted.body.id)}?wait=10`);
    expect(settled.body.status).toBe('posted');
  });

  it('keeps every log JSON while Redis goes away and comes back', async () => {
    if (!redisServer) redisServer = await startRedisServer(redisPort);
    await waitForOk(`${base}/readyz`, 15_000);
    await Promise.all(workers.map((child) => waitForLine(child, /started/)));
    await stopRedisServer();
    // Long enough for several reconnect attempts by every connection.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await api('GET', '/readyz')).status).toBe(503);
    redisServer = await startRedisServer(redisPort);
    await waitForOk(`${base}/readyz`, 15_000);
    await Promise.all(workers.map((child) => stopChild(child, 5_000)));

    for (const child of [web, ...workers]) {
      const lines = readFileSync(child.logPath, 'utf8').split('\n').filter(Boolean);
      const unstructured = lines.filter((line) => parsed(line) === undefined);
      expect({ process: child.name, unstructured }).toEqual({
        process: child.name,
        unstructured: [],
      });
      const errors = lines.filter((line) => /"level":40/.test(line));
      expect({ process: child.name, warned: errors.length > 0 }).toEqual({
        process: child.name,
        warned: true,
      });
    }
  });

  it('stops at once on SIGTERM when it has never reached Redis', async () => {
    const nowhere = await freePort();
    const { web: lonely } = await startWeb(
      { ...config, REDIS_URL: `redis://127.0.0.1:${nowhere}` },
      '/healthz',
    );
    const started = Date.now();
    expect(await stopChild(lonely, 15_000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(readFileSync(lonely.logPath, 'utf8')).toMatch(/"msg":"web stopped"/);
  });

  it('subscribes once Redis allows it, after refusing', async () => {
    const port = await freePort();
    const strict = await startRedisServer(port);
    try {
      const admin = createRedis({ REDIS_URL: `redis://127.0.0.1:${port}` });
      await admin.call('ACL', 'SETUSER', 'default', 'resetchannels');
      const { web: refused, port: webPort } = await startWeb(
        { ...config, REDIS_URL: `redis://127.0.0.1:${port}` },
        '/healthz',
      );
      try {
        await waitForLine(refused, /cannot subscribe to settled transfers/);
        expect((await fetch(`http://127.0.0.1:${webPort}/readyz`)).status).toBe(503);
        await admin.call('ACL', 'SETUSER', 'default', 'allchannels');
        await waitForOk(`http://127.0.0.1:${webPort}/readyz`, 10_000);
      } finally {
        admin.disconnect();
        await stopChild(refused, 5_000);
      }
    } finally {
      strict.kill('SIGKILL');
    }
  });

  it('stops workers at once on SIGTERM while Redis is away, each error logged once', async () => {
    if (!redisServer) redisServer = await startRedisServer(redisPort);
    const children = [
      startChild('worker', 'workers/transfers.ts', configEnv(config)),
      startChild('webhooks', 'workers/webhooks.ts', configEnv(config)),
    ];
    await Promise.all(children.map((child) => waitForLine(child, /started/)));
    await stopRedisServer();
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const started = Date.now();
    const codes = await Promise.all(children.map((child) => stopChild(child, 20_000)));
    expect(codes).toEqual([0, 0]);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const child of children) {
      const records = readFileSync(child.logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine);
      expect(records.some((record) => record.msg.endsWith('stopped'))).toBe(true);
      // Reconnect attempts every few hundred ms: one line per source at most.
      const sources = records
        .filter((record) => /queue error|connection error/.test(record.msg))
        .map((r) => `${r.msg} ${r.partition ?? ''} ${r.connection ?? ''} ${r.queue ?? ''}`);
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.length).toBe(new Set(sources).size);
    }
  });

  it('stops workers still waiting for Redis at once on SIGTERM, saying so', async () => {
    const nowhere = { ...config, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const children = [
      startChild('worker', 'workers/transfers.ts', configEnv(nowhere)),
      startChild('webhooks', 'workers/webhooks.ts', configEnv(nowhere)),
    ];
    await Promise.all(children.map((child) => waitForLine(child, /redis connection error/)));
    const codes = await Promise.all(children.map((child) => stopChild(child, 10_000)));
    expect(codes).toEqual([0, 0]);
    for (const child of children) {
      expect(readFileSync(child.logPath, 'utf8')).toMatch(/stopped before it started/);
    }
  });
});
