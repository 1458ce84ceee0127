import { z } from '@hono/zod-openapi';
import { Currency, listOf, Metadata, MinorUnits, Timestamp } from './common.js';

export const CreateTransferBody = z
  .object({
    source_account_id: z.string().min(1).max(64),
    destination_account_id: z.string().min(1).max(64),
    amount: MinorUnits,
    currency: Currency,
    description: z.string().max(1000).nullable().default(null),
    metadata: Metadata.default({}),
  })
  .strict()
  .openapi('CreateTransfer');

export const TransferStatus = z.enum(['pending', 'posted', 'failed']);

export const Transfer = z
  .object({
    id: z.string(),
    object: z.literal('transfer'),
    status: TransferStatus,
    source_account_id: z.string(),
    destination_account_id: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    failure_code: z
      .enum(['insufficient_funds', 'account_closed', 'balance_limit_exceeded'])
      .nullable(),
    attempt: z.number().int(),
    previous_attempt_id: z.string().nullable(),
    created_at: Timestamp,
    posted_at: Timestamp.nullable(),
    failed_at: Timestamp.nullable(),
  })
  .openapi('Transfer');

export const TransferList = listOf(Transfer, 'TransferList');

export const WaitQuery = z
  .object({
    wait: z.coerce.number().int().min(0).max(30).optional().openapi({
      description: 'Seconds (up to 30) to hold the answer until the transfer is final.',
    }),
  })
  .strict();
