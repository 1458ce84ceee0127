import { type ApiClient, type ApiRequest, describeExchange } from './api-client.js';
import { accountSchema } from './api-schemas.js';
import { UNLIMITED_OVERDRAFT } from './books.js';
import type { BookPlan, CustomerPlan, ReplayPlan } from './plan.js';
import { runPool } from './pool.js';
import { type RetryCounters, sendWithRetry } from './retry.js';

/** Ledger account id by reference (`berka-576`, `bank-cash`). */
export type AccountIds = Map<string, string>;

/**
 * Opens one CZK account per bank account and per book of the bank, through
 * the API, each POST with an Idempotency-Key of its own so that a retried
 * request cannot open an account twice. Any answer but 201 stops the demo:
 * without its accounts the replay would mean nothing.
 */
export async function openAccounts(
  client: ApiClient,
  plan: ReplayPlan,
  counters: RetryCounters,
  concurrency: number,
): Promise<AccountIds> {
  const requests = [...plan.books.map(bookRequest), ...plan.customers.map(customerRequest)];
  const ids: AccountIds = new Map();
  await runPool(requests, concurrency, async (call) => {
    const response = await sendWithRetry(client, call, counters);
    const account = accountSchema.safeParse(response.body);
    if (response.status !== 201 || !account.success || account.data.reference === null) {
      throw new Error(`could not open an account: ${describeExchange(call, response)}`);
    }
    ids.set(account.data.reference, account.data.id);
  });
  return ids;
}

function customerRequest(customer: CustomerPlan): ApiRequest {
  const { accountId, districtId, frequency, opened } = customer.bankAccount;
  const metadata = { berka_account_id: accountId, district_id: districtId, frequency, opened };
  return accountRequest(customer.reference, customer.overdraftLimit, nonEmpty(metadata));
}

function bookRequest(book: BookPlan): ApiRequest {
  return accountRequest(book.reference, UNLIMITED_OVERDRAFT, { bank_book: book.book });
}

function accountRequest(
  reference: string,
  overdraftLimit: number,
  metadata: Record<string, string>,
): ApiRequest {
  return {
    method: 'POST',
    path: '/v1/accounts',
    idempotencyKey: `open-${reference}`,
    body: { currency: 'CZK', reference, overdraft_limit: overdraftLimit, metadata },
  };
}

/** Metadata without the fields the file left empty. */
export function nonEmpty(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
}
