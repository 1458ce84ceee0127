import { z } from 'zod';

/*
 * The parts of the API's answers the demo relies on, checked on arrival so
 * that a contract break shows up as a clear anomaly, not as a wrong sum.
 */
const money = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const time = z.iso.datetime({ offset: true });

export const transferSchema = z.object({
  id: z.string().startsWith('tr_'),
  status: z.enum(['pending', 'posted', 'failed']),
  source_account_id: z.string(),
  destination_account_id: z.string(),
  amount: money,
  currency: z.string(),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  failure_code: z.string().nullable(),
  attempt: z.number().int(),
  previous_attempt_id: z.string().nullable(),
  created_at: time,
  posted_at: time.nullable(),
  failed_at: time.nullable(),
});
export type Transfer = z.infer<typeof transferSchema>;

export const accountSchema = z.object({
  id: z.string().startsWith('acct_'),
  currency: z.string(),
  balance: money,
  overdraft_limit: money,
  reference: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'closed']),
});
export type Account = z.infer<typeof accountSchema>;

export const entrySchema = z.object({
  id: z.string(),
  account_id: z.string(),
  transfer_id: z.string(),
  amount: money,
  balance_after: money,
  created_at: time,
});
export type Entry = z.infer<typeof entrySchema>;

export function listSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  });
}

export const problemSchema = z.looseObject({ code: z.string() });

/** The body of `POST /v1/transfers`. */
export interface TransferRequest {
  source_account_id: string;
  destination_account_id: string;
  amount: number;
  currency: 'CZK';
  description: string;
  metadata: Record<string, string>;
}
