import type { ApiRequest } from './api-client.js';
import type { TransferRequest } from './api-schemas.js';
import type { Movement } from './berka.js';
import { bookOf, bookReference, customerReference, describe } from './books.js';
import { type AccountIds, nonEmpty } from './open-accounts.js';

/** The movement's natural idempotency key: its trans_id is unique in the data set. */
export function transferKey(movement: Movement): string {
  return `berka-${movement.transId}`;
}

/**
 * The transfer that replays a movement: a credit moves money from the
 * bank's book to the customer, a debit from the customer to the book. The
 * movement's own fields travel in metadata, so any transfer can be traced
 * back to its line.
 */
export function transferBody(movement: Movement, ids: AccountIds): TransferRequest {
  const customer = accountId(ids, customerReference(movement.accountId));
  const book = accountId(ids, bookReference(bookOf(movement)));
  const credit = movement.direction === 'credit';
  return {
    source_account_id: credit ? book : customer,
    destination_account_id: credit ? customer : book,
    amount: movement.amount,
    currency: 'CZK',
    description: describe(movement),
    metadata: nonEmpty({
      trans_id: movement.transId,
      account_id: movement.accountId,
      date: movement.date,
      type: movement.type,
      operation: movement.operation,
      k_symbol: movement.kSymbol,
      bank: movement.bank,
      account: movement.counterpartyAccount,
    }),
  };
}

export function transferRequest(key: string, body: TransferRequest): ApiRequest {
  return { method: 'POST', path: '/v1/transfers', idempotencyKey: key, body };
}

function accountId(ids: AccountIds, reference: string): string {
  const id = ids.get(reference);
  if (id === undefined) throw new Error(`no ledger account was opened for ${reference}`);
  return id;
}
