import type { Account, Entry, Transfer } from './api-schemas.js';
import { type Check, examples } from './checks.js';
import { addHellers, formatCzk } from './hellers.js';
import type { Ledger } from './ledger-readback.js';
import type { ReplayPlan } from './plan.js';

/**
 * Checks the ledger, as read back through the API, against the file and
 * against the transfers the replay saw settle.
 */
export function reconcileLedger(
  plan: ReplayPlan,
  ledger: Ledger,
  transfers: Map<string, Transfer>,
): Check[] {
  return [
    balancesMatchFile(plan, ledger.accounts),
    twoEntriesPerPosting(ledger, [...transfers.values()]),
    balancesSumToZero(ledger.accounts),
    balancesMatchEntries(ledger),
    entriesFollowFileOrder(plan, ledger, transfers),
  ];
}

/** (a) Each account ends where the sum of its movements in the file says. */
export function balancesMatchFile(plan: ReplayPlan, accounts: readonly Account[]): Check {
  const byReference = new Map(accounts.map((account) => [account.reference, account]));
  const expected = [
    ...plan.customers.map((c) => ({ reference: c.reference, balance: c.expectedBalance })),
    ...plan.books.map((b) => ({ reference: b.reference, balance: b.expectedBalance })),
  ];
  const wrong = expected.flatMap(({ reference, balance }) => {
    const found = byReference.get(reference);
    if (found?.balance === balance) return [];
    const seen = found ? formatCzk(found.balance) : 'missing';
    return [`${reference} is ${seen}, file says ${formatCzk(balance)}`];
  });
  return {
    name: '(a) every balance equals the sum of its movements in the file',
    pass: wrong.length === 0,
    detail: `${expected.length - wrong.length}/${expected.length} accounts match${examples(wrong)}`,
  };
}

/** (b) A posted transfer has two entries, equal and opposite, on its own two accounts. */
export function twoEntriesPerPosting(ledger: Ledger, transfers: readonly Transfer[]): Check {
  const byTransfer = groupEntries([...ledger.entries.values()].flat());
  const posted = transfers.filter((transfer) => transfer.status === 'posted');
  const wrong = posted.flatMap((transfer) => {
    const entries = byTransfer.get(transfer.id) ?? [];
    byTransfer.delete(transfer.id);
    return isDoubleEntry(transfer, entries) ? [] : [`${transfer.id} has ${entries.length} entries`];
  });
  const strays = [...byTransfer.keys()].map((id) => `entries of ${id}, not a posted transfer`);
  const problems = [...wrong, ...strays];
  const right = `${posted.length - wrong.length}/${posted.length} posted transfers`;
  return {
    name: '(b) every posted transfer has exactly two entries, equal and opposite',
    pass: problems.length === 0 && posted.length > 0,
    detail: `${right}, ${strays.length} stray entries${examples(problems)}`,
  };
}

/** (c) Money only moved between the tenant's accounts: all balances sum to zero. */
export function balancesSumToZero(accounts: readonly Account[]): Check {
  const total = accounts.reduce((sum, account) => addHellers(sum, account.balance), 0);
  return {
    name: "(c) the tenant's balances sum to zero (API)",
    pass: total === 0,
    detail: `sum of ${accounts.length} balances = ${formatCzk(total)} CZK`,
  };
}

/** Each balance equals the sum of its entries, and each balance_after continues the last. */
export function balancesMatchEntries(ledger: Ledger): Check {
  const wrong = ledger.accounts.flatMap((account) => {
    let running = 0;
    for (const entry of ledger.entries.get(account.id) ?? []) {
      running = addHellers(running, entry.amount);
      if (entry.balance_after !== running) return [`${entry.id}: balance_after breaks the chain`];
    }
    return running === account.balance ? [] : [`${account.reference}: entries sum to ${running}`];
  });
  return {
    name: 'every balance equals the sum of its entries (balance_after chains)',
    pass: wrong.length === 0,
    detail:
      `${ledger.accounts.length - wrong.length}/${ledger.accounts.length} accounts` +
      examples(wrong),
  };
}

/** A customer's entries are its movements in the real order the balance chain gave. */
export function entriesFollowFileOrder(
  plan: ReplayPlan,
  ledger: Ledger,
  transfers: Map<string, Transfer>,
): Check {
  const byReference = new Map(ledger.accounts.map((account) => [account.reference, account.id]));
  const active = plan.customers.filter((customer) => customer.movements.length > 0);
  const wrong = active.flatMap((customer) => {
    const expected = customer.movements.map((m) => transfers.get(m.transId)?.id ?? '?');
    const id = byReference.get(customer.reference) ?? '';
    const actual = (ledger.entries.get(id) ?? []).map((entry) => entry.transfer_id);
    return expected.join() === actual.join() ? [] : [`${customer.reference} out of order`];
  });
  return {
    name: "each customer's entries follow the real order recovered from the file",
    pass: wrong.length === 0,
    detail: `${active.length - wrong.length}/${active.length} accounts in order${examples(wrong)}`,
  };
}

function groupEntries(entries: readonly Entry[]): Map<string, Entry[]> {
  const byTransfer = new Map<string, Entry[]>();
  for (const entry of entries) {
    const list = byTransfer.get(entry.transfer_id);
    if (list) list.push(entry);
    else byTransfer.set(entry.transfer_id, [entry]);
  }
  return byTransfer;
}

function isDoubleEntry(transfer: Transfer, entries: readonly Entry[]): boolean {
  const [first, second] = entries;
  if (entries.length !== 2 || !first || !second) return false;
  const debit = first.amount < 0 ? first : second;
  const credit = first.amount < 0 ? second : first;
  return (
    debit.amount === -transfer.amount &&
    credit.amount === transfer.amount &&
    debit.account_id === transfer.source_account_id &&
    credit.account_id === transfer.destination_account_id
  );
}
