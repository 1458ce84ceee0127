import { z } from '@hono/zod-openapi';
import { Currency, listOf, Metadata, Timestamp } from './common.js';

export const CreateAccountBody = z
  .object({
    currency: Currency,
    // `int()` bounds it at 2^53 - 1, as for amounts (see `MinorUnits`).
    overdraft_limit: z.number().int().min(0).default(0),
    reference: z.string().min(1).max(255).nullable().default(null),
    metadata: Metadata.default({}),
  })
  .strict()
  .openapi('CreateAccount');

export const Account = z
  .object({
    id: z.string(),
    object: z.literal('account'),
    currency: z.string(),
    balance: z.number().int(),
    overdraft_limit: z.number().int(),
    reference: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    status: z.enum(['active', 'closed']),
    version: z.number().int(),
    created_at: Timestamp,
    closed_at: Timestamp.nullable(),
  })
  .openapi('Account');

export const Entry = z
  .object({
    id: z.string(),
    object: z.literal('entry'),
    account_id: z.string(),
    transfer_id: z.string(),
    amount: z.number().int().openapi({ description: 'Signed: negative debits the account.' }),
    balance_after: z.number().int(),
    created_at: Timestamp,
  })
  .openapi('Entry');

export const AccountList = listOf(Account, 'AccountList');
export const EntryList = listOf(Entry, 'EntryList');
