import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/services/tenants.js';
import { type Child, startWeb, stopChild } from '../support/processes.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { createAccounts } from '../worker/fixtures.js';
import { useWorkerDatabase } from '../worker/support.js';

const db = useWorkerDatabase();
let relay: TcpRelay | undefined;
let web: Child | undefined;

afterAll(async () => {
  if (web) await stopChild(web, 2_000);
  await relay?.close();
});

describe('a web process whose PostgreSQL stops answering', () => {
  it('exits once an acceptance statement has waited too long', async () => {
    const config = db.config();
    relay = await startTcpRelay(Number(new URL(config.DATABASE_URL).port || 5432));
    const started = await startWeb({
      ...config,
      DATABASE_URL: relay.through(config.DATABASE_URL),
      DATABASE_STALL_MS: 2_000,
      LOG_LEVEL: 'warn',
    });
    web = started.web;
    const { tenant, secret } = await createTenant(db.sql, 'stalled');
    const [source, destination] = await createAccounts(db.sql, tenant.id, 2, 1_000n);
    const base = `http://127.0.0.1:${started.port}`;
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    // The key is looked up, and kept, while PostgreSQL still answers.
    expect((await fetch(`${base}/v1/accounts/${source}`, { headers })).status).toBe(200);

    relay.swallow();
    const sent = fetch(`${base}/v1/transfers`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'stalled-1' },
      body: JSON.stringify({
        source_account_id: source,
        destination_account_id: destination,
        amount: 1,
        currency: 'USD',
      }),
    }).then(
      (response) => response.status,
      () => 'connection lost',
    );
    expect(await web.exited).toBe(1);
    expect(await sent).toBe('connection lost');
    expect(await readFile(web.logPath, 'utf8')).toContain(
      'PostgreSQL has not answered a statement: web exiting',
    );
  }, 60_000);
});
