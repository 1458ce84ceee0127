import { FormatError, parseDelimited } from './delimited.js';
import { parseHellers } from './hellers.js';

export type Direction = 'credit' | 'debit';

/** One line of a transactions file, typed; amounts in hellers. */
export interface Movement {
  transId: string;
  accountId: string;
  /** ISO date, e.g. 1993-01-31. */
  date: string;
  type: string;
  direction: Direction;
  /** Never negative; a movement of zero moves nothing and is not replayed. */
  amount: number;
  /** The balance the bank printed after the movement, with its rounding. */
  balance: number;
  operation: string;
  kSymbol: string;
  bank: string;
  counterpartyAccount: string;
  line: number;
}

/** One line of the accounts file. */
export interface BankAccount {
  accountId: string;
  districtId: string;
  frequency: string;
  /** ISO date the account was opened. */
  opened: string;
}

const DIRECTIONS: Record<string, Direction> = { PRIJEM: 'credit', VYDAJ: 'debit', VYBER: 'debit' };

/** Parses a transactions file (trans.asc layout); see data/berka/README.md. */
export function parseMovements(text: string): Movement[] {
  return parseDelimited(text).map(({ line, fields }) => {
    const at = (name: string) => column(fields, name, line);
    const direction = DIRECTIONS[at('type')];
    if (!direction) throw new FormatError(`line ${line}: unknown type "${at('type')}"`);
    return {
      transId: identifier(at('trans_id'), line),
      accountId: identifier(at('account_id'), line),
      date: isoDate(at('date'), line),
      type: at('type'),
      direction,
      amount: amount(at('amount'), line),
      balance: withLine(line, () => parseHellers(at('balance'))),
      operation: at('operation').trim(),
      kSymbol: at('k_symbol').trim(),
      bank: at('bank').trim(),
      counterpartyAccount: at('account').trim(),
      line,
    };
  });
}

/** Parses an accounts file (account.asc layout). */
export function parseAccounts(text: string): BankAccount[] {
  return parseDelimited(text).map(({ line, fields }) => {
    const at = (name: string) => column(fields, name, line);
    return {
      accountId: identifier(at('account_id'), line),
      districtId: at('district_id').trim(),
      frequency: at('frequency').trim(),
      opened: isoDate(at('date'), line),
    };
  });
}

/** The amount a movement adds to its account's balance. */
export function signedAmount(movement: Pick<Movement, 'direction' | 'amount'>): number {
  return movement.direction === 'credit' ? movement.amount : -movement.amount;
}

function column(fields: Record<string, string>, name: string, line: number): string {
  const value = fields[name];
  if (value === undefined) throw new FormatError(`line ${line}: no column "${name}"`);
  return value;
}

function identifier(text: string, line: number): string {
  const value = text.trim();
  if (!/^\d+$/.test(value)) throw new FormatError(`line ${line}: not an id: "${text}"`);
  return value;
}

function amount(text: string, line: number): number {
  const hellers = withLine(line, () => parseHellers(text));
  if (hellers < 0) throw new FormatError(`line ${line}: amount must not be negative: "${text}"`);
  return hellers;
}

/** YYMMDD to an ISO date. The data set covers 1993-1998, so YY is 19YY. */
function isoDate(text: string, line: number): string {
  const match = /^(\d\d)(\d\d)(\d\d)$/.exec(text.trim());
  if (!match) throw new FormatError(`line ${line}: not a YYMMDD date: "${text}"`);
  const [, yy, mm, dd] = match;
  return `19${yy}-${mm}-${dd}`;
}

function withLine<T>(line: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof FormatError) throw new FormatError(`line ${line}: ${error.message}`);
    throw error;
  }
}
