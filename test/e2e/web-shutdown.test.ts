import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/sql.js';
import { newTenant } from '../support/app.js';
import { testConfig } from '../support/env.js';
import { type Child, startWeb, stopChild } from '../support/processes.js';

let sql: Sql;
let web: Child;
let port: number;
let key: string;

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'info' });
  sql = createSql(config, { max: 1 });
  ({ key } = await newTenant(sql, 'shutdown'));
  ({ web, port } = await startWeb(config));
});

afterAll(async () => {
  await stopChild(web, 1_000);
  await sql.end();
});

/** A GET over a keep-alive connection; resolves with the status and body. */
function get(path: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${key}` } },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('web process shutdown', () => {
  it('answers long-polls, finishes requests, drops keep-alive sockets, and exits 0', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const account = JSON.parse((await postAccount()).body) as { id: string };
    const transfer = await postTransfer(account.id);
    expect(transfer.status).toBe(202);
    const id = (JSON.parse(transfer.body) as { id: string }).id;

    // An idle keep-alive connection, and a long-poll that no worker will end.
    expect((await get('/v1/accounts?limit=1', agent)).status).toBe(200);
    const longPoll = get(`/v1/transfers/${id}?wait=30`, agent);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stoppedAt = Date.now();
    web.process.kill('SIGTERM');
    const answer = await longPoll;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ id, status: 'pending' });

    expect(await web.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    agent.destroy();
  });
});

describe('web process shutdown with unfinished requests', () => {
  it('cuts connections whose requests never finish arriving, and still exits 0', async () => {
    // A shutdown timeout well past the grace, so that waiting for these
    // clients until it ran out would show as exit 1.
    const config = testConfig({ SHUTDOWN_TIMEOUT_MS: '15000' });
    const own = await startWeb(config);
    const sockets = [
      '', // connected, nothing sent
      'GET /v1/accounts HTTP/1.1\r\nHost: localhost\r\n', // headers unfinished
      `POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"curr', // body unfinished
    ].map((sent) => {
      const socket = connect(own.port, '127.0.0.1', () => socket.write(sent));
      socket.on('error', () => undefined);
      return socket;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stoppedAt = Date.now();
    own.web.process.kill('SIGTERM');
    expect(await own.web.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    for (const socket of sockets) socket.destroy();
  }, 30_000);
});

async function postAccount() {
  return post('/v1/accounts', { currency: 'EUR', overdraft_limit: 10 });
}

async function postTransfer(source: string) {
  const other = JSON.parse((await post('/v1/accounts', { currency: 'EUR' })).body) as {
    id: string;
  };
  return post(
    '/v1/transfers',
    { source_account_id: source, destination_account_id: other.id, amount: 1, currency: 'EUR' },
    { 'idempotency-key': 'shutdown-1' },
  );
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}
