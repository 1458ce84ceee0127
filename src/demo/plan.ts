import { type BankAccount, type Movement, signedAmount } from './berka.js';
import { BOOKS, type Book, bookOf, bookReference, customerReference } from './books.js';
import { orderAccount } from './chain.js';
import { addHellers } from './hellers.js';

export interface CustomerPlan {
  reference: string;
  bankAccount: BankAccount;
  /** Replayable movements (amount above zero) in the order they happened. */
  movements: Movement[];
  overdraftLimit: number;
  expectedBalance: number;
}

export interface BookPlan {
  book: Book;
  reference: string;
  expectedBalance: number;
  movements: number;
}

/** Everything the replay needs to know before it sends anything, and what it should find after. */
export interface ReplayPlan {
  customers: CustomerPlan[];
  books: BookPlan[];
  /** Unique movements that will be replayed. */
  movements: number;
  duplicateLines: number;
  zeroAmounts: number;
  /** Accounts that have movements but no line in the accounts file. */
  unlistedAccounts: number;
  fallbackDays: number;
  roundedLinks: number;
}

/**
 * Orders each account's movements, sizes its overdraft so that every one of
 * them posts, and works out every balance the ledger must end with: a
 * customer's is the sum of its signed amounts, a book's the opposite of the
 * sum of the movements it takes. A trans_id seen twice is replayed once.
 */
export function buildPlan(
  accounts: readonly BankAccount[],
  movements: readonly Movement[],
): ReplayPlan {
  const { unique, duplicateLines } = dropDuplicates(movements);
  const byAccount = groupByAccount(unique);
  const listed = new Map(accounts.map((account) => [account.accountId, account]));
  const unlisted = [...byAccount.keys()].filter((id) => !listed.has(id));

  let fallbackDays = 0;
  let roundedLinks = 0;
  const customers = [...listed.keys(), ...unlisted].map((accountId) => {
    const ordered = orderAccount(byAccount.get(accountId) ?? []);
    fallbackDays += ordered.fallbackDays.length;
    roundedLinks += ordered.roundedLinks;
    const replayable = ordered.movements.filter((movement) => movement.amount > 0);
    return customerPlan(listed.get(accountId) ?? unlistedAccount(accountId), replayable);
  });

  const replayable = customers.flatMap((customer) => customer.movements);
  return {
    customers,
    books: bookPlans(replayable),
    movements: replayable.length,
    duplicateLines,
    zeroAmounts: unique.length - replayable.length,
    unlistedAccounts: unlisted.length,
    fallbackDays,
    roundedLinks,
  };
}

/** The overdraft an account needs so that none of its movements, in this order, is refused. */
export function overdraftNeeded(ordered: readonly Movement[]): number {
  let balance = 0;
  let lowest = 0;
  for (const movement of ordered) {
    balance = addHellers(balance, signedAmount(movement));
    lowest = Math.min(lowest, balance);
  }
  return Math.max(0, -lowest);
}

function customerPlan(bankAccount: BankAccount, movements: Movement[]): CustomerPlan {
  return {
    reference: customerReference(bankAccount.accountId),
    bankAccount,
    movements,
    overdraftLimit: overdraftNeeded(movements),
    expectedBalance: movements.reduce(
      (sum, movement) => addHellers(sum, signedAmount(movement)),
      0,
    ),
  };
}

function bookPlans(movements: readonly Movement[]): BookPlan[] {
  const plans = new Map<Book, BookPlan>(
    BOOKS.map((book) => [
      book,
      { book, reference: bookReference(book), expectedBalance: 0, movements: 0 },
    ]),
  );
  for (const movement of movements) {
    const plan = plans.get(bookOf(movement));
    if (!plan) continue;
    plan.expectedBalance = addHellers(plan.expectedBalance, -signedAmount(movement));
    plan.movements++;
  }
  return [...plans.values()];
}

function dropDuplicates(movements: readonly Movement[]) {
  const seen = new Set<string>();
  const unique = movements.filter((movement) => {
    if (seen.has(movement.transId)) return false;
    seen.add(movement.transId);
    return true;
  });
  return { unique, duplicateLines: movements.length - unique.length };
}

function groupByAccount(movements: readonly Movement[]): Map<string, Movement[]> {
  const byAccount = new Map<string, Movement[]>();
  for (const movement of movements) {
    const list = byAccount.get(movement.accountId);
    if (list) list.push(movement);
    else byAccount.set(movement.accountId, [movement]);
  }
  return byAccount;
}

function unlistedAccount(accountId: string): BankAccount {
  return { accountId, districtId: '', frequency: '', opened: '' };
}
