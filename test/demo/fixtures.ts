import type { Movement } from '../../src/demo/berka.js';

let nextTransId = 1000;

/** A movement with sensible defaults; amounts and balances in hellers. */
export function movement(fields: Partial<Movement> = {}): Movement {
  const transId = fields.transId ?? String(nextTransId++);
  return {
    transId,
    accountId: '576',
    date: '1993-01-05',
    type: 'PRIJEM',
    direction: 'credit',
    amount: 10_000,
    balance: 10_000,
    operation: 'VKLAD',
    kSymbol: '',
    bank: '',
    counterpartyAccount: '',
    line: Number(transId),
    ...fields,
  };
}

/** A credit of `amount` hellers leaving the printed balance at `balance`. */
export function credit(amount: number, balance: number, fields: Partial<Movement> = {}): Movement {
  return movement({ direction: 'credit', type: 'PRIJEM', amount, balance, ...fields });
}

/** A debit (cash withdrawal) of `amount` hellers leaving the printed balance at `balance`. */
export function debit(amount: number, balance: number, fields: Partial<Movement> = {}): Movement {
  return movement({
    direction: 'debit',
    type: 'VYDAJ',
    operation: 'VYBER',
    amount,
    balance,
    ...fields,
  });
}

export const TRANS_HEADER = [
  '"trans_id"',
  '"account_id"',
  '"date"',
  '"type"',
  '"operation"',
  '"amount"',
  '"balance"',
  '"k_symbol"',
  '"bank"',
  '"account"',
].join(';');
