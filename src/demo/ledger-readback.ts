import type { z } from 'zod';
import { type ApiClient, type ApiRequest, describeExchange } from './api-client.js';
import { type Account, accountSchema, type Entry, entrySchema, listSchema } from './api-schemas.js';
import { runPool } from './pool.js';
import { type RetryCounters, sendWithRetry } from './retry.js';

/** The tenant's ledger as the API shows it. */
export interface Ledger {
  accounts: Account[];
  /** Each account's entries, oldest first. */
  entries: Map<string, Entry[]>;
  requests: number;
}

/**
 * Reads every account of the tenant, page by page, and every account's
 * entries. The API lists entries newest first; they are kept oldest first.
 */
export async function readLedger(
  client: ApiClient,
  counters: RetryCounters,
  concurrency: number,
): Promise<Ledger> {
  const reader = { client, counters, requests: 0 };
  const accounts = await listAll(reader, '/v1/accounts', accountSchema);
  const entries = new Map<string, Entry[]>();
  await runPool(accounts, concurrency, async (account) => {
    const newestFirst = await listAll(reader, `/v1/accounts/${account.id}/entries`, entrySchema);
    entries.set(account.id, newestFirst.reverse());
  });
  return { accounts, entries, requests: reader.requests };
}

interface Reader {
  client: ApiClient;
  counters: RetryCounters;
  requests: number;
}

async function listAll<S extends z.ZodType>(
  reader: Reader,
  path: string,
  item: S,
): Promise<z.output<S>[]> {
  const items: z.output<S>[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await readPage(reader, pagePath(path, cursor), item);
    items.push(...page.data);
    if (!page.has_more) return items;
    const next = page.next_cursor ?? undefined;
    if (next === undefined || next === cursor) throw new Error(`${path}: has_more, no new cursor`);
    cursor = next;
  }
}

async function readPage<S extends z.ZodType>(reader: Reader, path: string, item: S) {
  const call: ApiRequest = { method: 'GET', path };
  const response = await sendWithRetry(reader.client, call, reader.counters);
  reader.requests++;
  const page = listSchema(item).safeParse(response.body);
  if (response.status !== 200 || !page.success) {
    throw new Error(`could not read the ledger back: ${describeExchange(call, response)}`);
  }
  return page.data;
}

function pagePath(path: string, cursor: string | undefined): string {
  const query = new URLSearchParams({ limit: '100' });
  if (cursor !== undefined) query.set('starting_after', cursor);
  return `${path}?${query}`;
}
