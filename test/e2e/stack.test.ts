import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../../src/db/sql.js';
import { freePort } from '../../src/lib/free-port.js';
import { callApi } from '../support/api.js';
import { newTenant } from '../support/app.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/databases.js';
import { configEnv, testConfig } from '../support/env.js';
import { type Child, killChild, startChild, stopChild, waitForOk } from '../support/processes.js';

/**
 * The whole stack as separate processes: one web process and two workers,
 * driven over HTTP as a client would.
 */
let sql: Sql;
let base: string;
let env: Record<string, string>;
let key: string;
let tenantId: string;
const children: Child[] = [];

interface Transfer {
  id: string;
  status: string;
  failure_code: string | null;
}

function api<T>(method: string, path: string, body?: unknown, idempotencyKey?: string) {
  return callApi<T>(base, key, { method, path, body, idempotencyKey });
}

async function openAccount(overdraft = 0): Promise<string> {
  const answer = await api<{ id: string }>('POST', '/v1/accounts', {
    currency: 'EUR',
    overdraft_limit: overdraft,
  });
  return answer.body.id;
}

async function submit(source: string, destination: string, amount: number, idempotencyKey: string) {
  for (;;) {
    const answer = await api<Transfer>(
      'POST',
      '/v1/transfers',
      { source_account_id: source, destination_account_id: destination, amount, currency: 'EUR' },
      idempotencyKey,
    );
    if (answer.status === 202) return answer.body;
    if (answer.status !== 409 && answer.status !== 503) {
      throw new Error(`unexpected ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
  }
}

async function settle(id: string): Promise<Transfer> {
  for (;;) {
    const answer = await api<Transfer>('GET', `/v1/transfers/${id}?wait=10`);
    if (answer.body.status !== 'pending') return answer.body;
  }
}

async function ledgerProblems(): Promise<string[]> {
  const problems: string[] = [];
  const unbalanced = await sql`
    select a.id from accounts a
    left join entries e on e.account_id = a.id
    where a.tenant_id = ${tenantId}
    group by a.id, a.balance having a.balance <> coalesce(sum(e.amount), 0)`;
  if (unbalanced.length > 0) problems.push(`${unbalanced.length} balances differ from entries`);
  const badPostings = await sql`
    select t.id from transfers t left join entries e on e.transfer_id = t.id
    where t.tenant_id = ${tenantId} and t.status = 'posted'
    group by t.id having count(e.id) <> 2 or sum(e.amount) <> 0`;
  if (badPostings.length > 0)
    problems.push(`${badPostings.length} posted transfers lack 2 entries`);
  const stray = await sql`
    select e.id from entries e join transfers t on t.id = e.transfer_id
    where t.tenant_id = ${tenantId} and t.status <> 'posted'`;
  if (stray.length > 0) problems.push(`${stray.length} entries belong to unposted transfers`);
  const [total] = await sql<{ sum: bigint | null }[]>`
    select sum(balance)::bigint as sum from accounts where tenant_id = ${tenantId}`;
  if ((total?.sum ?? 0n) !== 0n) problems.push(`balances sum to ${total?.sum}`);
  return problems;
}

function startWorker(name: string): Child {
  const child = startChild(name, 'workers/transfers.ts', env);
  children.push(child);
  return child;
}

let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await createScratchDatabase('e2e');
  const config = testConfig({
    DATABASE_URL: databaseUrl,
    SWEEPER_PENDING_AFTER_MS: '3000',
    LOG_LEVEL: 'warn',
  });
  const port = await freePort();
  env = { ...configEnv(config), PORT: String(port), HOST: '127.0.0.1' };
  base = `http://127.0.0.1:${port}`;
  sql = createSql(config, { max: 2 });
  ({ key, tenantId } = await newTenant(sql, 'e2e'));
  children.push(startChild('web', 'src/server.ts', env));
  startWorker('worker-1');
  startWorker('worker-2');
  await waitForOk(`${base}/readyz`);
});

afterAll(async () => {
  await Promise.all(children.map((child) => stopChild(child)));
  await sql.end();
  await dropScratchDatabase(databaseUrl);
});

describe('the stack over HTTP, with two worker processes', () => {
  it('posts exactly 50 of 200 concurrent transfers of 1 from an account holding 50', async () => {
    const bank = await openAccount(1_000_000_000);
    const hot = await openAccount();
    const sink = await openAccount();
    const funding = await submit(bank, hot, 50, 'fund-hot');
    expect((await settle(funding.id)).status).toBe('posted');

    const accepted = await Promise.all(
      Array.from({ length: 200 }, (_, index) => submit(hot, sink, 1, `spend-${index}`)),
    );
    const final = await Promise.all(accepted.map((transfer) => settle(transfer.id)));

    const posted = final.filter((transfer) => transfer.status === 'posted');
    const failed = final.filter((transfer) => transfer.status === 'failed');
    expect(posted).toHaveLength(50);
    expect(failed).toHaveLength(150);
    expect(new Set(failed.map((transfer) => transfer.failure_code))).toEqual(
      new Set(['insufficient_funds']),
    );
    const account = await api<{ balance: number }>('GET', `/v1/accounts/${hot}`);
    expect(account.body.balance).toBe(0);
    const [lowest] = await sql<{ min: bigint }[]>`
      select min(balance_after) from entries where account_id = ${hot}`;
    expect(lowest?.min).toBe(0n);
    expect(await ledgerProblems()).toEqual([]);
  });

  it('applies every transfer exactly once when a worker is killed mid-flight', async () => {
    const banks = await Promise.all(Array.from({ length: 8 }, () => openAccount(1_000_000_000)));
    const accounts = await Promise.all(Array.from({ length: 20 }, () => openAccount()));
    const victim = children.find((child) => child.name === 'worker-1');
    if (!victim) throw new Error('worker-1 is not running');

    // Keep submitting while worker-1 dies, so that it dies with work in hand
    // and the survivors take over partitions with transfers still pending.
    const accepted: Transfer[] = [];
    let killed: Promise<void> | undefined;
    const lanes = Array.from({ length: 16 }, async (_, lane) => {
      for (let index = lane; index < 800; index += 16) {
        const source = banks[index % banks.length] ?? '';
        const destination = accounts[index % accounts.length] ?? '';
        accepted.push(await submit(source, destination, 1 + (index % 7), `kill-${index}`));
        if (accepted.length === 300 && !killed) {
          killed = killChild(victim).then(() => void startWorker('worker-3'));
        }
      }
    });
    await Promise.all(lanes);
    await killed;
    expect(victim.process.signalCode).toBe('SIGKILL');

    const final = await Promise.all(accepted.map((transfer) => settle(transfer.id)));
    expect(final.every((transfer) => transfer.status === 'posted')).toBe(true);
    const [entries] = await sql<{ count: bigint }[]>`
      select count(*) from entries where transfer_id = any(${accepted.map((t) => t.id)})`;
    expect(entries?.count).toBe(1600n);
    expect(await ledgerProblems()).toEqual([]);
  });
});
