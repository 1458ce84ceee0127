import { type Movement, signedAmount } from './berka.js';

/** The bank printed balances rounded to 0.10 CZK in places; this much drift is one link. */
export const BALANCE_TOLERANCE = 10;

/** Past this many tries, a day is taken in file order rather than searched further. */
const SEARCH_BUDGET = 50_000;

export interface OrderedAccount {
  movements: Movement[];
  /** Days whose movements no balance chain could order; they keep file order. */
  fallbackDays: string[];
  /** Links where the printed balance differs from the arithmetic, within tolerance. */
  roundedLinks: number;
}

/**
 * Puts one account's movements in the order they happened. Days follow each
 * other by date. Within a day the file's order is not the real one, so the
 * movements are arranged into the chain in which each printed balance is the
 * previous printed balance plus the signed amount, give or take
 * BALANCE_TOLERANCE. The first day's opening balance is not in the file; any
 * movement may open it. When no chain fits, the day keeps file order, and
 * the next day's opening balance is treated as unknown.
 */
export function orderAccount(movements: readonly Movement[]): OrderedAccount {
  const ordered: Movement[] = [];
  const fallbackDays: string[] = [];
  let roundedLinks = 0;
  let opening: number | undefined;

  for (const day of groupByDate(movements)) {
    const chain = findChain(day, opening);
    if (chain) {
      roundedLinks += countRoundedLinks(chain, opening);
      ordered.push(...chain);
      opening = chain.at(-1)?.balance;
    } else {
      fallbackDays.push(day[0]?.date ?? '');
      ordered.push(...day);
      opening = undefined;
    }
  }
  return { movements: ordered, fallbackDays, roundedLinks };
}

/** Movements grouped by date, dates ascending, file order kept within a date. */
export function groupByDate(movements: readonly Movement[]): Movement[][] {
  const days = new Map<string, Movement[]>();
  for (const movement of movements) {
    const day = days.get(movement.date);
    if (day) day.push(movement);
    else days.set(movement.date, [movement]);
  }
  return [...days.keys()].sort().map((date) => days.get(date) ?? []);
}

/**
 * A depth-first search over arrangements of one day, trying candidates in
 * file order so that, of several chains that fit, the one closest to the
 * file wins. Undefined when none fits or the search budget runs out.
 */
export function findChain(
  day: readonly Movement[],
  opening: number | undefined,
): Movement[] | undefined {
  let budget = SEARCH_BUDGET;
  const used = new Array<boolean>(day.length).fill(false);
  const chain: Movement[] = [];

  const extend = (previous: number | undefined): boolean => {
    if (chain.length === day.length) return true;
    for (const [index, movement] of day.entries()) {
      if (used[index] || budget-- <= 0) continue;
      if (previous !== undefined && !links(previous, movement)) continue;
      used[index] = true;
      chain.push(movement);
      if (extend(movement.balance)) return true;
      chain.pop();
      used[index] = false;
    }
    return false;
  };
  return extend(opening) ? chain : undefined;
}

function links(previousBalance: number, movement: Movement): boolean {
  const drift = previousBalance + signedAmount(movement) - movement.balance;
  return Math.abs(drift) <= BALANCE_TOLERANCE;
}

function countRoundedLinks(chain: readonly Movement[], opening: number | undefined): number {
  let count = 0;
  let previous = opening;
  for (const movement of chain) {
    if (previous !== undefined && previous + signedAmount(movement) !== movement.balance) count++;
    previous = movement.balance;
  }
  return count;
}
